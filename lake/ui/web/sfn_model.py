"""The Step Functions API's shapes, read from botocore's own service model (the same file boto3
and the AWS CLI build their requests from): which operations exist, what a request may hold,
and how a response is written in the JSON 1.0 protocol.

Requests are checked against the input shape (required members, types, lengths, ranges, enums)
and answered with AWS's `ValidationException` wording; responses keep only the members the
output shape declares, with timestamps as epoch seconds (AWS JSON 1.0 protocol)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator

SERVICE = "stepfunctions"


class InvalidRequest(ValueError):
    """A request that does not fit its operation's input shape (AWS: ValidationException)."""


@functools.cache
def service_model() -> ServiceModel:
    """Step Functions' service model, as the installed botocore ships it."""
    return botocore.session.get_session().get_service_model(SERVICE)


def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


def check_request(operation: OperationModel, params: dict[str, Any]) -> dict[str, Any]:
    """The request's members that the input shape knows (unknown members are ignored, as AWS's
    JSON services do), checked against the shape. Raises InvalidRequest."""
    shape = operation.input_shape
    known = {name: value for name, value in params.items() if name in shape.members}
    report = ParamValidator().validate(known, shape)
    if report.has_errors():
        raise InvalidRequest(report.generate_report())
    # botocore's validator checks minimums and types; AWS also enforces maximums and enums.
    problems = [
        problem
        for name, value in known.items()
        if (problem := _beyond_limits(name, value, shape.members[name]))
    ]
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
        raise InvalidRequest(f"{count}: {'; '.join(problems)}")
    return known


def _beyond_limits(name: str, value: Any, shape: Shape) -> str | None:
    limit = shape.metadata.get("max")
    if shape.type_name == "string":
        if getattr(shape, "enum", None) and value not in shape.enum:
            return (
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{', '.join(shape.enum)}]"
            )
        if limit is not None and len(value) > limit:
            return (
                f"Value at '{name}' failed to satisfy constraint: Member must have length less "
                f"than or equal to {limit}"
            )
    if shape.type_name == "integer" and limit is not None and value > limit:
        return (
            f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have value "
            f"less than or equal to {limit}"
        )
    return None


def to_wire(value: Any, shape: Shape) -> Any:
    """A response value as the JSON 1.0 protocol writes it for `shape`: structures keep only the
    members the shape declares (None members are left out), timestamps become epoch seconds."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        written = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                written[name] = to_wire(value[name], member)
        return written
    if kind == "list":
        return [to_wire(item, shape.member) for item in value]
    if kind == "map":
        return {key: to_wire(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        return epoch_seconds(value)
    return value


def epoch_seconds(value: Any) -> float:
    """A datetime, an ISO 8601 text or epoch seconds as epoch seconds (milliseconds kept)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return round(value.timestamp(), 3)
