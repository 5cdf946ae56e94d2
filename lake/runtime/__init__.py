"""The runtime: the executions of a lake home (start, rerun, redrive, stop, recovery), their
history database, the engine that wires the workflow to the emulated AWS services, its service
to other processes, EventBridge's rules, and the watcher of the raw bucket.

May import: `lake.asl`, `lake.aws`, `lake.home`, `contract`, `functions`, `glue`, `settings`.
The faces (`lake.ui`) import only what this package exports below."""

from lake.asl import NotRedrivable, TaskTokenError
from lake.aws.sql_engine import QueryOutcome
from lake.runtime.api import Lake
from lake.runtime.daemon_options import (
    daemon_wanted,
    describe_idle,
    idle_timeout_from_env,
    parse_duration,
)
from lake.runtime.errors import (
    EngineError,
    ExecutionAlreadyExists,
    ExecutionNotFound,
    NotRunning,
    RemoteError,
    StateMachineNotFound,
)
from lake.runtime.history_db import ExecutionRecord, MapRunRecord
from lake.runtime.reads import RedriveStatus, StateMachine

__all__ = [
    "EngineError",
    "ExecutionAlreadyExists",
    "ExecutionNotFound",
    "ExecutionRecord",
    "Lake",
    "MapRunRecord",
    "NotRedrivable",
    "NotRunning",
    "QueryOutcome",
    "RedriveStatus",
    "RemoteError",
    "StateMachine",
    "StateMachineNotFound",
    "TaskTokenError",
    "daemon_wanted",
    "describe_idle",
    "idle_timeout_from_env",
    "parse_duration",
]
