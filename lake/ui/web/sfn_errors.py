"""The errors the Step Functions API answers with, and the runtime's errors they stand for.

Each is sent as AWS's JSON 1.0 error body, `{"__type": CODE, "message": ...}`, which botocore
turns into `client.exceptions.CODE` (AWS Step Functions API Reference, "Common Errors" and each
operation's "Errors")."""

from __future__ import annotations

from lake.runtime import RemoteError

# The runtime's error classes (by name, as a remote engine reports them too) -> AWS's codes.
_RUNTIME_TO_AWS = {
    "ExecutionNotFound": "ExecutionDoesNotExist",
    "NotRedrivable": "ExecutionNotRedrivable",
    "ExecutionAlreadyExists": "ExecutionAlreadyExists",
    "StateMachineNotFound": "StateMachineDoesNotExist",
    "ExecutionInputTooLarge": "InvalidExecutionInput",
}


class ApiError(Exception):
    """An error response: AWS's error code, a message that says what to do, the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


def from_runtime(error: Exception) -> ApiError | None:
    """The API error a runtime error stands for (None: not one the API knows; a server fault)."""
    kind = error.kind if isinstance(error, RemoteError) else type(error).__name__
    code = _RUNTIME_TO_AWS.get(kind)
    return None if code is None else ApiError(code, str(error))


def invalid_arn(arn: str, expected: str) -> ApiError:
    return ApiError("InvalidArn", f"Invalid Arn: '{arn}' is not {expected}")


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def invalid_token(message: str) -> ApiError:
    return ApiError("InvalidToken", f"Invalid Token: {message}")
