"""A pure-Python interpreter of the Amazon States Language (JSONPath mode) for the local runtime.

It runs the same definition file the CDK stack deploys, with Step Functions' semantics for the
states (Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map inline and distributed), paths
(Jayway JSONPath), intrinsic functions, Retry/Catch, timeouts and heartbeats, task tokens, the
payload quota, history events and redrive it implements, and refuses at load time whatever it
does not implement. See lake/asl/README.md.

It may import only the standard library: effects enter through task integrations.
"""

from lake.asl.definition import StateMachineDefinition, load_definition
from lake.asl.definition_checks import split_resource
from lake.asl.errors import (
    ExecutionInputTooLarge,
    NotRedrivable,
    TaskFailure,
    UnsupportedDefinition,
)
from lake.asl.executor import DEFAULT_ROLE_ARN, Executor
from lake.asl.limits import MAX_PAYLOAD_BYTES
from lake.asl.model import ExecutionResult, Integration, TaskRequest
from lake.asl.observer import ChildExecution, MapRun, MapRunObserver
from lake.asl.redrive import status_of
from lake.asl.service_catalog import ITEM_READER_RESOURCES, RESULT_WRITER_RESOURCES
from lake.asl.task_tokens import (
    InvalidOutput,
    InvalidToken,
    TaskDoesNotExist,
    TaskTimedOut,
    TaskTokenError,
    TaskTokens,
)

__all__ = [
    "DEFAULT_ROLE_ARN",
    "ITEM_READER_RESOURCES",
    "MAX_PAYLOAD_BYTES",
    "RESULT_WRITER_RESOURCES",
    "ChildExecution",
    "ExecutionInputTooLarge",
    "ExecutionResult",
    "Executor",
    "Integration",
    "InvalidOutput",
    "InvalidToken",
    "MapRun",
    "MapRunObserver",
    "NotRedrivable",
    "StateMachineDefinition",
    "TaskDoesNotExist",
    "TaskFailure",
    "TaskRequest",
    "TaskTimedOut",
    "TaskTokenError",
    "TaskTokens",
    "UnsupportedDefinition",
    "load_definition",
    "split_resource",
    "status_of",
]
