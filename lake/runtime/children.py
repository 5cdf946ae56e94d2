"""Executions that start executions: the runtime's side of the `states:startExecution`
integration (`lake.aws.step_functions`).

A child is a normal execution of its state machine (its pool, history, describe, redrive,
alerts), linked to the execution that started it. A child started with an S3 "Object Created"
event as input (a backfill's) is named and recorded after its file, as an upload's execution is.
Waiting for it blocks on the child's end (no polling)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from lake.aws.events import object_of_event
from lake.aws.step_functions import ChildExecutionError
from lake.home import LakeHome, NotInBucket
from lake.runtime.errors import ExecutionAlreadyExists, StateMachineNotFound
from lake.runtime.executions import Executions, execution_name_for
from lake.runtime.history_db import ExecutionRecord


def _millis(value: float | None) -> int | None:
    return None if value is None else int(value * 1000)


def described(record: ExecutionRecord) -> dict[str, Any]:
    """DescribeExecution's answer for a record (input/output JSON text, epoch-ms dates)."""
    return {
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status,
        "startDate": _millis(record.start_date),
        "stopDate": _millis(record.stop_date),
        "input": record.input,
        "output": record.output,
        "error": record.error,
        "cause": record.cause,
    }


class ChildStarter:
    """Starts and waits for child executions through the engine's state machines, found by
    name or ARN with `workflow`."""

    def __init__(self, home: LakeHome, workflow: Callable[[str], Executions]) -> None:
        self.home = home
        self._workflow = workflow

    def source_of(self, input: Any) -> tuple[str, str] | None:
        """The object an S3 event input is about: its key decoded as S3 encodes keys in events,
        or as given when only that one exists (a backfill passes listed, raw keys)."""
        named = object_of_event(input)
        if named is None:
            return None
        bucket, key = named
        decoded = unquote_plus(key)
        try:
            if decoded != key and not self.home.object_path(bucket, decoded).exists():
                return bucket, key
        except NotInBucket:
            return None
        return bucket, decoded

    def start_child(
        self, state_machine_arn: str, input: Any, name: str | None, parent_arn: str
    ) -> dict[str, Any]:
        """StartExecution of `state_machine_arn`, linked to `parent_arn`."""
        try:
            executions = self._workflow(state_machine_arn)
        except StateMachineNotFound as e:
            raise ChildExecutionError(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{state_machine_arn}'"
            ) from e
        source = self.source_of(input)
        if name is None:
            name = execution_name_for(source[1]) if source else str(uuid.uuid4())
        try:
            record = executions.start(input, name=name, source=source, parent_arn=parent_arn)
        except ExecutionAlreadyExists as e:
            raise ChildExecutionError("ExecutionAlreadyExists", str(e)) from e
        started = record.start_date or dt.datetime.now(dt.UTC).timestamp()
        return {"executionArn": record.arn, "startDate": _millis(started)}

    def wait_for_child(self, execution_arn: str) -> dict[str, Any]:
        """Block until the child ends; its DescribeExecution answer."""
        executions = self._workflow(execution_arn.split(":execution:", 1)[-1].split(":")[0])
        return described(executions.wait_for(execution_arn))
