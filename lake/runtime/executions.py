"""The executions of a lake home: start, rerun, redrive, stop, finish, and the recovery of those a
dead process left running.

Executions run on a small thread pool; the interpreter hands each history event to the database
the moment it records it, so any `lake` process can follow an execution as it runs."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from contract import layout
from lake.asl import Executor, MapRunObserver, NotRedrivable, StateMachineDefinition, TaskTokens
from lake.asl.history import to_json
from lake.home import LakeHome
from lake.runtime.errors import ExecutionAlreadyExists, ExecutionNotFound, NotRunning
from lake.runtime.history_db import ExecutionRecord, ExecutionStore
from lake.runtime.recovery import INTERRUPTED, INTERRUPTED_CAUSE, recover_interrupted

__all__ = ["INTERRUPTED", "INTERRUPTED_CAUSE", "Executions", "execution_name_for"]


def find_execution(store: ExecutionStore, identifier: str, home: LakeHome) -> ExecutionRecord:
    """One execution of `home`, by name or ARN; ExecutionNotFound, saying where to look,
    otherwise."""
    record = store.find_execution(identifier)
    if record is None:
        raise ExecutionNotFound(
            f"no execution named {identifier!r} in {home.root}; `lake executions` lists them"
        )
    return record


def execution_name_for(key: str, at: dt.datetime | None = None) -> str:
    """A readable, unique execution name for a raw key: `<city>-<file stem>-<UTC time>-<hex>`
    (Step Functions allows 80 characters of letters, digits, '-' and '_')."""
    at = at or dt.datetime.now(dt.UTC)
    stem = key.removeprefix(layout.RAW_PREFIX).removesuffix(".gz").removesuffix(".csv")
    slug = re.sub(r"[^0-9A-Za-z_-]+", "-", stem).strip("-")[:50] or "object"
    return f"{slug}-{at:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


class Executions:
    """Runs and records the executions of one state machine (`machine` names it; by default the
    ingest workflow), each on a thread pool of `parallel` workers.

    `on_ended` is called with the final record of every execution that ends (the runtime's
    EventBridge turns it into a status-change event). `task_tokens` is the registry its
    `.waitForTaskToken` tasks wait on (one per engine, shared by its state machines) and
    `observer` records the Map Runs of its Distributed Map states."""

    def __init__(
        self,
        home: LakeHome,
        store: ExecutionStore,
        definition: StateMachineDefinition,
        integrations: Mapping[str, Any],
        *,
        on_ended: Callable[[ExecutionRecord], None],
        parallel: int = 1,
        time_scale: float = 1.0,
        machine: str | None = None,
        task_tokens: TaskTokens | None = None,
        observer: MapRunObserver | None = None,
    ) -> None:
        self.home = home
        self.machine = machine or home.settings.state_machine_name
        self.state_machine_arn = home.state_machine_arn_of(self.machine)
        self.store = store
        self.definition = definition
        self.integrations = integrations
        self.on_ended = on_ended
        self.time_scale = time_scale
        self.task_tokens = task_tokens or TaskTokens()
        self.observer = observer
        self.abort = threading.Event()  # set by `interrupt`: executions end as interrupted
        self._stops: dict[str, threading.Event] = {}  # per execution: StopExecution
        self._redriving: set[str] = set()
        self._ended: dict[str, threading.Event] = {}  # per running execution: it has ended
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, parallel), thread_name_prefix="execution")
        self._futures: set[Future] = set()

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let running executions finish first. Executions still
        RUNNING after that were queued and never began: they are closed as interrupted, so that
        the next `lake watch` starts their files again."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self.recover_interrupted()
            with self._lock:  # whoever waits for those (a parent's task) is told they ended
                ended, self._ended = list(self._ended.values()), {}
            for event in ended:
                event.set()

    # --- the requests ----------------------------------------------------------------------
    def start(
        self,
        input: Mapping[str, Any],
        *,
        name: str | None = None,
        source: tuple[str, str] | None = None,
        rerun_of: str | None = None,
        parent_arn: str | None = None,
    ) -> ExecutionRecord:
        """StartExecution: record a new RUNNING execution and run it on the pool; returns at
        once. `parent_arn` links it to the execution whose task started it."""
        name = name or execution_name_for(source[1] if source else "execution")
        record = ExecutionRecord(
            arn=self.home.execution_arn(name, self.machine),
            name=name,
            state_machine_arn=self.state_machine_arn,
            status="RUNNING",
            input=to_json(input),
            start_date=dt.datetime.now(dt.UTC).timestamp(),
            source_bucket=source[0] if source else None,
            source_key=source[1] if source else None,
            rerun_of=rerun_of,
            parent_arn=parent_arn,
        )
        try:
            self.store.insert_execution(record)
        except sqlite3.IntegrityError as e:
            raise ExecutionAlreadyExists(
                f"Execution Already Exists: '{record.arn}' (names are unique in a lake home)"
            ) from e
        with self._lock:
            self._ended[record.arn] = threading.Event()
        self._submit(self._run, record, dict(input))
        return record

    def wait_for(self, identifier: str) -> ExecutionRecord:
        """Block until the execution ends (woken when it does, no polling); its final record.
        An execution started by another engine or already ended is read as it is now."""
        record = self.find(identifier)
        with self._lock:
            ended = self._ended.get(record.arn)
        if ended is not None:
            ended.wait()
        return self.find(record.arn)

    def rerun(self, identifier: str) -> ExecutionRecord:
        """A new execution with the same input (StartExecution again)."""
        previous = self.find(identifier)
        source = (previous.source_bucket, previous.source_key) if previous.source_key else None
        return self.start(
            json.loads(previous.input or "{}"),
            name=execution_name_for(previous.source_key or previous.name),
            source=source,  # type: ignore[arg-type]
            rerun_of=previous.arn,
        )

    def redrive(self, identifier: str) -> ExecutionRecord:
        """RedriveExecution: continue the execution at the state that did not finish. Raises
        NotRedrivable with AWS's reason when it cannot be redriven (also while a redrive of it
        is under way, as AWS refuses a second one)."""
        record = self.find(identifier)
        with self._lock:
            if record.arn in self._redriving:
                raise NotRedrivable(f"Execution is RUNNING and cannot be redriven: {record.arn}")
            self._redriving.add(record.arn)
        previous_events = self.store.events(record.arn)
        began = threading.Event()

        def redrive_began() -> None:
            # Runs in the execution's thread before its next event, so it cannot overwrite
            # the final status of a fast redrive.
            if not began.is_set():
                self.store.update_execution(
                    record.arn,
                    status="RUNNING",
                    stop_date=None,
                    error=None,
                    cause=None,
                    output=None,
                    redrive_date=dt.datetime.now(dt.UTC).timestamp(),
                )
                began.set()

        executor = self._executor(record.arn, on_first_event=redrive_began)
        future = self._submit(self._redrive, record, executor, previous_events)
        # Wait until the redrive began (its first new event) or was refused.
        while not began.wait(0.05):
            if future.done():
                future.result()  # raises NotRedrivable (or any start-up error)
                break
        return self.store.find_execution(record.arn) or record

    def stop(
        self, identifier: str, error: str | None = None, cause: str | None = None
    ) -> ExecutionRecord:
        """StopExecution: the execution ends ABORTED at its next state boundary or wait."""
        record = self.find(identifier)
        with self._lock:
            stop = self._stops.get(record.arn)
            if record.finished or stop is None:
                raise NotRunning(f"Execution Does Not Exist or is not running: '{record.arn}'")
            stop.error, stop.cause = error, cause  # type: ignore[attr-defined]
            stop.set()
        return record

    def interrupt(self) -> None:
        """Stop every running execution at its next state boundary or wait; they end ABORTED
        with `Lake.Interrupted` (no alert) and can be redriven."""
        with self._lock:
            self.abort.set()
            for stop in self._stops.values():
                stop.set()

    def find(self, identifier: str) -> ExecutionRecord:
        return find_execution(self.store, identifier, self.home)

    def wait_idle(self) -> None:
        """Block until every execution submitted so far has finished."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            for future in pending:
                future.exception()

    def recover_interrupted(self) -> list[ExecutionRecord]:
        """Close executions of this state machine left RUNNING by a process that is gone (see
        `lake.runtime.recovery`)."""
        return recover_interrupted(self.store, self.state_machine_arn)

    # --- running -----------------------------------------------------------------------------
    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future = self._pool.submit(fn, *args)
        with self._lock:
            self._futures = {f for f in self._futures if not f.done()} | {future}
        return future

    def _executor(self, arn: str, on_first_event: Callable[[], None] | None = None) -> Executor:
        store = self.store

        def on_event(event: dict) -> None:
            store.add_event(arn, event)
            if on_first_event:
                on_first_event()

        return Executor(
            self.definition,
            self.integrations,
            on_event=on_event,
            time_scale=self.time_scale,
            task_tokens=self.task_tokens,
            observer=self.observer,
        )

    def _stop_event(self, arn: str) -> threading.Event:
        """The event that stops one execution: set by StopExecution or by `interrupt`."""
        stop = threading.Event()
        with self._lock:
            self._stops[arn] = stop
            if self.abort.is_set():
                stop.set()
        return stop

    def _run(self, record: ExecutionRecord, input: dict) -> None:
        stop = self._stop_event(record.arn)
        try:
            result = self._executor(record.arn).start(
                execution_arn=record.arn,
                name=record.name,
                input=input,
                state_machine_arn=record.state_machine_arn,
                abort=stop,
            )
        except Exception as e:  # the interpreter itself broke: record it, never lose it
            self._finish(record, "FAILED", None, "Lake.RuntimeError", f"{type(e).__name__}: {e}")
            raise
        self._finish(record, result.status, result.output, result.error, result.cause)

    def _redrive(self, record: ExecutionRecord, executor: Executor, events: list[dict]) -> None:
        stop = self._stop_event(record.arn)
        try:
            result = executor.redrive(
                events,
                execution_arn=record.arn,
                name=record.name,
                state_machine_arn=record.state_machine_arn,
                abort=stop,
            )
        except NotRedrivable:
            self._forget(record.arn)
            raise
        except Exception as e:
            self._finish(record, "FAILED", None, "Lake.RuntimeError", f"{type(e).__name__}: {e}")
            raise
        record.redrive_count = result.redrive_count
        self._finish(
            record, result.status, result.output, result.error, result.cause, redriven=True
        )

    def _forget(self, arn: str) -> None:
        with self._lock:
            self._stops.pop(arn, None)
            self._redriving.discard(arn)

    def _finish(
        self,
        record: ExecutionRecord,
        status: str,
        output: Any,
        error: str | None,
        cause: str | None,
        redriven: bool = False,
    ) -> None:
        with self._lock:
            stop = self._stops.get(record.arn)
        interrupted = status == "ABORTED" and self.abort.is_set()
        if interrupted:
            error, cause = INTERRUPTED, INTERRUPTED_CAUSE.format(name=record.name)
        elif status == "ABORTED" and stop is not None:
            error, cause = getattr(stop, "error", None), getattr(stop, "cause", None)
        changes: dict[str, Any] = {
            "status": status,
            "output": None if output is None else to_json(output),
            "error": error,
            "cause": cause,
            "stop_date": dt.datetime.now(dt.UTC).timestamp(),
        }
        if redriven:
            changes["redrive_count"] = record.redrive_count
        self.store.update_execution(record.arn, **changes)
        self._forget(record.arn)
        with self._lock:
            ended = self._ended.pop(record.arn, None)
        if ended is not None:
            ended.set()
        if not interrupted:
            self.on_ended(self.find(record.arn))
