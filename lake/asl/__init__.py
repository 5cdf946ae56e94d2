"""A pure-Python interpreter of the Amazon States Language (JSONPath mode) for the local runtime.

It runs the same definition file the CDK stack deploys, with Step Functions' semantics for the
states, paths, intrinsic functions, Retry/Catch, timeouts, history events and redrive it
implements, and refuses at load time whatever it does not implement.
"""

from lake.asl.definition import StateMachineDefinition, load_definition, split_resource
from lake.asl.errors import NotRedrivable, TaskFailure, UnsupportedDefinition
from lake.asl.executor import DEFAULT_ROLE_ARN, Executor
from lake.asl.model import ExecutionResult, Integration, TaskRequest
from lake.asl.redrive import status_of

__all__ = [
    "DEFAULT_ROLE_ARN",
    "ExecutionResult",
    "Executor",
    "Integration",
    "NotRedrivable",
    "StateMachineDefinition",
    "TaskFailure",
    "TaskRequest",
    "UnsupportedDefinition",
    "load_definition",
    "split_resource",
    "status_of",
]
