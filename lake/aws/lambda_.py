"""`arn:aws:states:::lambda:invoke` played locally: the handler in `functions/` is called with
the payload and a Lambda-like context, and answers with the integration's response shape.

A handler that raises fails the task the way Step Functions reports a Lambda error: the error
is the exception's class name and the cause is the runtime's JSON error document."""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lake.asl import TaskFailure, TaskRequest
from lake.aws.logs import logging_to
from lake.home import LOCAL_REGION, LakeHome

Handler = Callable[[dict, Any], Any]
DEFAULT_TIMEOUT_S = 300


@dataclass
class LocalLambdaContext:
    """The attributes and method of `awslambdaric`'s context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class LambdaInvoke:
    """The local `lambda:invoke` integration over a mapping of function name -> handler."""

    def __init__(self, home: LakeHome, handlers: Mapping[str, Handler]) -> None:
        self.home = home
        self.handlers = dict(handlers)

    def _resolve(self, function: str) -> tuple[str, Handler]:
        # FunctionName may be a name, an ARN, or an ARN with a version/alias qualifier.
        name = function.split(":function:")[-1].split(":")[0]
        if name not in self.handlers:
            raise TaskFailure(
                "Lambda.ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:{LOCAL_REGION}:...:function:{name} "
                f"(local functions: {', '.join(sorted(self.handlers))})",
            )
        return name, self.handlers[name]

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        """The `lambda:invoke` task: RequestResponse, the integration's response shape."""
        function = str(request.parameters.get("FunctionName", ""))
        body, request_id = self.invoke(
            function,
            request.parameters.get("Payload", {}),
            log=self.home.execution_log(request.context["Execution"]["Name"]),
            timeout_s=request.timeout_seconds,
        )
        return {
            "ExecutedVersion": "$LATEST",
            "Payload": body,
            "SdkHttpMetadata": {"HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id},
            "StatusCode": 200,
        }

    def invoke(
        self, function: str, payload: Any, *, log: Path, timeout_s: float | None = None
    ) -> tuple[Any, str]:
        """Call a function's handler with `payload` and a Lambda-like context, its log lines
        going to `log`: (the result, the request id). A handler that raises becomes a
        TaskFailure named after the exception, with the runtime's error document as cause."""
        name, handler = self._resolve(function)
        context = LocalLambdaContext(
            function_name=name,
            invoked_function_arn=function,
            timeout_s=timeout_s or DEFAULT_TIMEOUT_S,
        )
        started = time.monotonic()
        with logging_to(log):
            _runtime_line(f"START RequestId: {context.aws_request_id} Version: $LATEST")
            try:
                # The payload crosses a JSON boundary in AWS; so it does here.
                result = handler(json.loads(json.dumps(payload)), context)
                body = json.loads(json.dumps(result))
            except Exception as e:
                document = _error_document(e, context.aws_request_id)
                _runtime_line(json.dumps({"level": "ERROR", **document}))
                raise TaskFailure(type(e).__name__, json.dumps(document)) from e
            finally:
                elapsed_ms = (time.monotonic() - started) * 1000
                _runtime_line(f"END RequestId: {context.aws_request_id}")
                _runtime_line(
                    f"REPORT RequestId: {context.aws_request_id}\tDuration: {elapsed_ms:.2f} ms"
                )
        return body, context.aws_request_id


def _runtime_line(text: str) -> None:
    from lake.aws.logs import current_log

    file = current_log()
    if file is not None:
        file.write(text + "\n")
        file.flush()


def _error_document(error: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's error JSON, which Step Functions passes on as the task's cause."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
