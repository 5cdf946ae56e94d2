"""The runtime's named errors. Each message says what is wrong and what to do."""

from __future__ import annotations


class EngineError(RuntimeError):
    """The engine cannot start or serve a request; the message says why and what to do."""


class EngineUnavailable(EngineError):
    """The engine's owner does not answer (in time); the message says what to do."""


class ExecutionNotFound(EngineError):
    """No execution with that name or ARN in this lake home (AWS: ExecutionDoesNotExist)."""


class ExecutionAlreadyExists(EngineError):
    """StartExecution with a name an execution already has (AWS: ExecutionAlreadyExists)."""


class StateMachineNotFound(EngineError):
    """No state machine of that name or ARN in this lake (AWS: StateMachineDoesNotExist)."""


class NotRunning(EngineError):
    """StopExecution of an execution that is not running."""


class MissingIntegration(EngineError):
    """The definition calls a service the local runtime cannot play."""


class RemoteError(EngineError):
    """The engine's owner refused or failed a request; `kind` is the error's class name there."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
