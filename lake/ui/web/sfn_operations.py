"""The Step Functions API operations the local runtime answers, each over `lake.runtime.Lake`
(the operations the CLI and the console use too), with AWS's members, ARNs and errors.

Each method takes the checked request members and returns the response members (datetimes for
timestamps); `sfn_protocol` reads and writes them in the JSON 1.0 protocol. The page of the
AWS Step Functions API Reference each follows is named at the method."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from lake.runtime import ExecutionNotFound, ExecutionRecord, Lake, NotRunning, RemoteError
from lake.ui.web.sfn_errors import ApiError, invalid_arn, invalid_token, validation

DEFAULT_PAGE = 100  # "The default is 100 and the maximum allowed page size is 1000."
STATE_MACHINE_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$")
EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$")
# StartExecution, "name": no white space, brackets, wildcards, these special characters, or
# control characters.
_NAME_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
ERROR_MAX, CAUSE_MAX = 256, 32768  # DescribeExecution's limits on error and cause


class PageTokens:
    """nextToken values: the cursor of the next page and the request it belongs to, signed so a
    token cannot be forged or moved to another request (then: InvalidToken)."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeSerializer(secret, salt="movement-lake.stepfunctions.nextToken")

    def issue(self, operation: str, scope: dict[str, Any], cursor: Any) -> str | None:
        if cursor is None:
            return None
        return self._serializer.dumps({"op": operation, "scope": scope, "cursor": cursor})

    def cursor(self, token: str | None, operation: str, scope: dict[str, Any]) -> Any:
        if token is None:
            return None
        try:
            content = self._serializer.loads(token)
        except BadSignature:
            raise invalid_token("the nextToken was not issued by this server") from None
        if content.get("op") != operation or content.get("scope") != scope:
            raise invalid_token("the nextToken belongs to another request")
        return content["cursor"]


def page_size(request: dict[str, Any]) -> int:
    return request.get("maxResults") or DEFAULT_PAGE


class StepFunctionsOperations:
    """The operations, by their API names (see OPERATIONS)."""

    def __init__(self, lake: Lake, tokens: PageTokens) -> None:
        self.lake = lake
        self.tokens = tokens
        self._redrives: OrderedDict[tuple[str, str], Any] = OrderedDict()  # clientToken replies
        self._lock = threading.Lock()

    def handler(self, operation: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        method = OPERATIONS.get(operation)
        return None if method is None else getattr(self, method)

    # --- state machines ------------------------------------------------------------------------
    def list_state_machines(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_ListStateMachines: every state machine of the lake, paginated."""
        machines = self.lake.state_machines()
        start = self.tokens.cursor(request.get("nextToken"), "ListStateMachines", {}) or 0
        end = start + page_size(request)
        items = [
            {
                "stateMachineArn": m.arn,
                "name": m.name,
                "type": "STANDARD",
                "creationDate": m.created,
            }
            for m in machines[start:end]
        ]
        more = end if end < len(machines) else None
        return {
            "stateMachines": items,
            "nextToken": self.tokens.issue("ListStateMachines", {}, more),
        }

    def describe_state_machine(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_DescribeStateMachine: its definition (placeholders substituted), role, type."""
        machine = self.lake.state_machine(self._state_machine_arn(request["stateMachineArn"]))
        return {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": machine.definition_text,
            "roleArn": machine.role_arn,
            "type": "STANDARD",
            "creationDate": machine.created,
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": {"enabled": False},
        }

    # --- executions ------------------------------------------------------------------------
    def list_executions(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_ListExecutions: newest first; statusFilter, redriveFilter, paginated."""
        if "mapRunArn" in request:
            raise validation("mapRunArn is not supported by the local runtime")
        if "stateMachineArn" not in request:
            raise validation("Must specify either stateMachineArn or mapRunArn")
        machine = self.lake.state_machine(self._state_machine_arn(request["stateMachineArn"]))
        status = request.get("statusFilter")
        redrive_filter = request.get("redriveFilter")
        scope = {"machine": machine.arn, "status": status, "redrive": redrive_filter}
        after = self.tokens.cursor(request.get("nextToken"), "ListExecutions", scope)
        if status == "PENDING_REDRIVE":  # a redrive here begins at once: never pending
            return {"executions": []}
        try:
            records, cursor = self.lake.execution_page(
                state_machine=machine.arn,
                status=status,
                redriven=None if redrive_filter is None else redrive_filter == "REDRIVEN",
                after=after,
                limit=page_size(request),
            )
        except ValueError as e:
            raise invalid_token(str(e)) from e
        return {
            "executions": [self._list_item(r) for r in records],
            "nextToken": self.tokens.issue("ListExecutions", scope, cursor),
        }

    def describe_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_DescribeExecution, with redriveStatus and its reason."""
        record = self._execution(request["executionArn"])
        redrive = self.lake.redrive_status(record)
        described = {
            **self._list_item(record),
            "error": _clip(record.error, ERROR_MAX),
            "cause": _clip(record.cause, CAUSE_MAX),
            "redriveStatus": "REDRIVABLE" if redrive.redrivable else "NOT_REDRIVABLE",
            "redriveStatusReason": redrive.reason,
        }
        if request.get("includedData") != "METADATA_ONLY":
            described["input"] = record.input
            described["inputDetails"] = {"included": True}
            if record.output is not None:
                described["output"] = record.output
                described["outputDetails"] = {"included": True}
        return described

    def get_execution_history(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_GetExecutionHistory: reverseOrder, includeExecutionData, paginated."""
        record = self._execution(request["executionArn"])
        reverse = bool(request.get("reverseOrder"))
        scope = {"execution": record.arn, "reverse": reverse}
        after = self.tokens.cursor(request.get("nextToken"), "GetExecutionHistory", scope)
        events, cursor = self.lake.history_page(
            record.arn, reverse=reverse, after_id=after or 0, limit=page_size(request)
        )
        if request.get("includeExecutionData") is False:
            events = [_without_data(event) for event in events]
        return {
            "events": events,
            "nextToken": self.tokens.issue("GetExecutionHistory", scope, cursor),
        }

    def start_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_StartExecution. The same name and input as a RUNNING execution returns that
        execution (idempotent); a name in use otherwise is ExecutionAlreadyExists."""
        machine = self.lake.state_machine(self._state_machine_arn(request["stateMachineArn"]))
        name = request.get("name")
        if name is not None and _NAME_FORBIDDEN.search(name):
            raise ApiError("InvalidName", f"Invalid Name: '{name}'")
        text = request.get("input", "{}")
        try:
            execution_input = json.loads(text)
        except ValueError as e:
            raise ApiError(
                "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{e}'"
            ) from e
        if name is not None:
            running = self._same_running_execution(machine.arn, name, execution_input)
            if running is not None:
                return {"executionArn": running.arn, "startDate": running.started}
        record = self.lake.execution(self.lake.start(machine.arn, execution_input, name))
        return {"executionArn": record.arn, "startDate": record.started}

    def stop_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_StopExecution: the execution ends ABORTED at its next state boundary. Stopping
        an execution that has already ended changes nothing and returns when it stopped."""
        record = self._execution(request["executionArn"])
        if not record.finished:
            try:
                self.lake.stop(record.arn, request.get("error"), request.get("cause"))
            except (NotRunning, RemoteError) as e:
                if isinstance(e, RemoteError) and e.kind != "NotRunning":
                    raise
                record = self.lake.execution(record.arn)
                if not record.finished:  # queued behind others: not yet running
                    raise validation(
                        f"{record.arn} has not begun yet (it waits for a free worker); stop "
                        "it once it runs"
                    ) from e
        record = self.lake.execution(record.arn)
        return {"stopDate": record.stopped or _now()}

    def redrive_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """API_RedriveExecution: continue at the state that did not finish. A repeated request
        with the same clientToken (botocore sends one) answers as the first did."""
        record = self._execution(request["executionArn"])
        token = request.get("clientToken")
        with self._lock:
            if token is not None and (record.arn, token) in self._redrives:
                return {"redriveDate": self._redrives[(record.arn, token)]}
        self.lake.redrive(record.arn)
        redriven = self.lake.execution(record.arn)
        answer = redriven.redrive_date or _now().timestamp()
        if token is not None:
            with self._lock:
                self._redrives[(record.arn, token)] = answer
                while len(self._redrives) > 1000:
                    self._redrives.popitem(last=False)
        return {"redriveDate": answer}

    # --- helpers -------------------------------------------------------------------------------
    def _state_machine_arn(self, arn: str) -> str:
        if not STATE_MACHINE_ARN.match(arn):
            raise invalid_arn(
                arn, "a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)"
            )
        return arn

    def _execution(self, arn: str) -> ExecutionRecord:
        if not EXECUTION_ARN.match(arn):
            raise invalid_arn(
                arn, "an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)"
            )
        try:
            record = self.lake.execution(arn)
        except ExecutionNotFound:
            record = None
        if record is None or record.arn != arn:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return record

    def _same_running_execution(
        self, machine_arn: str, name: str, execution_input: Any
    ) -> ExecutionRecord | None:
        try:
            existing = self.lake.execution(name)
        except ExecutionNotFound:
            return None
        if existing.state_machine_arn != machine_arn:
            return None
        if existing.status == "RUNNING" and json.loads(existing.input or "{}") == execution_input:
            return existing
        raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{existing.arn}'")

    @staticmethod
    def _list_item(record: ExecutionRecord) -> dict[str, Any]:
        return {
            "executionArn": record.arn,
            "stateMachineArn": record.state_machine_arn,
            "name": record.name,
            "status": record.status,
            "startDate": record.started,
            "stopDate": record.stopped,
            "redriveCount": record.redrive_count,
            "redriveDate": record.redrive_date,
        }


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    """A history event without the execution data (inputs, outputs) it carries."""
    stripped = dict(event)
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict):
            stripped[key] = {
                name: value
                for name, value in details.items()
                if name not in ("input", "output", "inputDetails", "outputDetails")
            }
    return stripped


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


OPERATIONS = {
    "ListStateMachines": "list_state_machines",
    "DescribeStateMachine": "describe_state_machine",
    "ListExecutions": "list_executions",
    "DescribeExecution": "describe_execution",
    "GetExecutionHistory": "get_execution_history",
    "StartExecution": "start_execution",
    "StopExecution": "stop_execution",
    "RedriveExecution": "redrive_execution",
}
