"""Step Functions' payload quota: state input/output, task results and execution input.

Step Functions guide, "Step Functions service quotas" (Quotas related to state machine
executions): "Maximum input or output size for a task, state, or execution: 256 KiB of data as a
UTF-8 encoded string". Beyond it a state fails with States.DataLimitExceeded.

``MAX_PAYLOAD_BYTES`` is read at each check, so a test may lower it with monkeypatch.
"""

from __future__ import annotations

from typing import Any

from lake.asl.errors import STATES_DATA_LIMIT_EXCEEDED, StatesError
from lake.asl.history import to_json

MAX_PAYLOAD_BYTES = 262_144


def payload_bytes(value: Any) -> int:
    """The size Step Functions counts: the compact JSON text, UTF-8 encoded."""
    return len(to_json(value).encode("utf-8"))


def too_large(value: Any) -> bool:
    """Whether ``value`` is over the payload quota."""
    return payload_bytes(value) > MAX_PAYLOAD_BYTES


def result_too_large(name: str) -> StatesError:
    """The error AWS records when a state or task returns too much (its exact cause text).

    ``name`` is the state's name for a state's output, the resource type (``lambda``) for a
    service integration's result: both as recorded by AWS (LocalStack's test_states_errors
    snapshots, recorded against AWS).
    """
    return StatesError(
        STATES_DATA_LIMIT_EXCEEDED,
        f"The state/task '{name}' returned a result with a size exceeding the maximum number of "
        "bytes service limit.",
    )


def input_too_large(name: str) -> StatesError:
    """The error for task parameters over the quota (the cause text is ours, not AWS's)."""
    return StatesError(
        STATES_DATA_LIMIT_EXCEEDED,
        f"The state/task '{name}' has an input with a size exceeding the maximum number of bytes "
        "service limit.",
    )
