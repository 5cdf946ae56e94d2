"""The EventBridge patterns of the workflow, written once: the CDK stack deploys them and the
local runtime matches its events against the very same dicts."""

from __future__ import annotations

from typing import Any

from contract.layout import RAW_PREFIX, RAW_SUFFIXES

# The execution endings that send an alert (and that Step Functions can redrive).
ALERT_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def object_created_rule_pattern(raw_bucket: str) -> dict[str, Any]:
    """The pattern that starts the workflow: S3 "Object Created" in the raw bucket for keys under
    `travel_times/` ending `.csv` or `.csv.gz`."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [raw_bucket]},
            "object": {"key": [{"wildcard": f"{RAW_PREFIX}*{suffix}"} for suffix in RAW_SUFFIXES]},
        },
    }


def alert_rule_pattern(state_machine_arn: str) -> dict[str, Any]:
    """The pattern that routes an execution of `state_machine_arn` that ended badly to the
    alert."""
    return {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": list(ALERT_STATUSES), "stateMachineArn": [state_machine_arn]},
    }
