"""EventBridge patterns as plain dicts (shared with the local runtime) turned into CDK's type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events

# Deliver to a target for as long as EventBridge allows: a day, up to 185 attempts.
EVENT_MAX_AGE = Duration.hours(24)
EVENT_RETRY_ATTEMPTS = 185


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """`pattern` (keys `source`, `detail-type`, `detail`) as an EventPattern, values unchanged."""
    unknown = set(pattern) - {"source", "detail-type", "detail"}
    if unknown:
        raise ValueError(f"unsupported event pattern key(s): {', '.join(sorted(unknown))}")
    return events.EventPattern(
        source=list(pattern["source"]),
        detail_type=list(pattern["detail-type"]),
        detail=dict(pattern["detail"]),
    )
