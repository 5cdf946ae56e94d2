"""The engine of a lake home: the warm SparkSession and catalog, the workflow definition with
its local integrations, and the executions it runs and records.

One process at a time owns the engine of a home (see lake.service). Executions run on a small
thread pool (`parallel` workers); their history goes to the database as it happens, so any
process can follow them. Glue runs are serialized by their integration: they share the one
SparkSession of a 2-core machine, and `sys.argv` is process-wide; the Lambda, the manifest read
and partition registration of other executions proceed meanwhile."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import settings as project_settings
from contract import layout
from contract.events import alert_rule_pattern, object_created_rule_pattern
from contract.table import create_table_sql
from lake import patterns
from lake.asl import Executor, NotRedrivable, load_definition
from lake.db import ExecutionRecord, ExecutionStore
from lake.events import (
    ALERT_STATUSES,
    event_json,
    execution_status_change_event,
    object_created_event,
)
from lake.home import LakeHome
from lake.integrations import (
    ATHENA_START_QUERY_SYNC,
    GLUE_START_JOB_RUN_SYNC,
    LAMBDA_INVOKE,
    S3_GET_OBJECT,
    SNS_PUBLISH,
    MissingIntegration,
    missing,
)
from lake.integrations.athena import AthenaStartQueryExecution, QueryOutcome, run_sql
from lake.integrations.glue import GlueStartJobRun
from lake.integrations.lambda_ import LambdaInvoke
from lake.integrations.s3 import S3GetObject
from lake.integrations.sns import SnsPublish, publish
from lake.logs import route_powertools_logger
from lake.s3 import LocalS3Client, file_etag, version_id

# An execution left RUNNING by a process that is gone (killed, crashed, or stopped with Ctrl-C
# mid-run) is closed with this error; `lake watch` starts its file again.
INTERRUPTED = "Lake.Interrupted"
INTERRUPTED_CAUSE = (
    "The lake process running this execution stopped before it finished. `lake watch` starts "
    "the file again when it starts; or run `lake redrive {name}`."
)


class EngineError(RuntimeError):
    """The engine cannot start or serve a request; the message says why and what to do."""


class ExecutionNotFound(EngineError):
    """No execution with that name or ARN in this lake home."""


def definition_substitutions(home: LakeHome) -> dict[str, str]:
    """The values of the definition's ${placeholders} for the local runtime, named as the
    CDK stack's DefinitionSubstitutions."""
    s = home.settings
    return {
        "ValidateFunctionArn": home.validate_function_arn,
        "TransformJobName": s.transform_job_name,
        "CuratedBucket": s.curated_bucket,
        "AthenaWorkGroup": s.athena_workgroup,
        "Database": s.database,
    }


def table_location(home: LakeHome) -> str:
    """The table's LOCATION: the curated bucket's `travel_times/` folder, as a file:// URI."""
    return home.local_uri(f"s3://{home.settings.curated_bucket}/{layout.TABLE_PREFIX}")


def execution_name_for(key: str, at: dt.datetime | None = None) -> str:
    """A readable, unique execution name for a raw key: `<city>-<file stem>-<UTC time>-<hex>`
    (Step Functions allows 80 characters of letters, digits, '-' and '_')."""
    at = at or dt.datetime.now(dt.UTC)
    stem = key.removeprefix(layout.RAW_PREFIX).removesuffix(".gz").removesuffix(".csv")
    slug = re.sub(r"[^0-9A-Za-z_-]+", "-", stem).strip("-")[:50] or "object"
    return f"{slug}-{at:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class ObjectVersion:
    """One version of a raw object as the file system shows it."""

    bucket: str
    key: str
    size: int
    mtime_ns: int
    path: Path


def load_workflow(home: LakeHome, path: Path = project_settings.STATE_MACHINE_FILE):
    """The ASL file the stack deploys, with the local substitutions."""
    return load_definition(path, definition_substitutions(home))


class Engine:
    """Runs the workflow for one lake home. Use as a context manager, or open()/close()."""

    def __init__(
        self,
        home: LakeHome,
        *,
        parallel: int = 1,
        time_scale: float = 1.0,
        definition_file: Path = project_settings.STATE_MACHINE_FILE,
        glue_script: Path = project_settings.GLUE_SCRIPT,
        spark_factory: Callable[[Path], Any] | None = None,
    ) -> None:
        self.home = home
        self.parallel = max(1, parallel)
        self.time_scale = time_scale
        self.definition_file = Path(definition_file)
        self.glue_script = Path(glue_script)
        self._spark_factory = spark_factory
        self._spark: Any = None
        self._spark_lock = threading.Lock()
        self._landing = threading.Lock()  # one "object landed" decision at a time (dedupe)
        self.abort = threading.Event()
        self.store: ExecutionStore | None = None
        self.definition: Any = None
        self.integrations: dict[str, Any] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._futures: set[Future] = set()
        self._futures_lock = threading.Lock()
        self._restore_validator: list[Callable[[], None]] = []

    # --- life cycle ----------------------------------------------------------------------
    def __enter__(self) -> Engine:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> Engine:
        """Prepare the home, load and check the definition, close orphaned executions."""
        self.home.ensure()
        self.store = ExecutionStore(self.home.db_path)
        self.definition = load_workflow(self.home, self.definition_file)
        self.integrations = self._build_integrations()
        absent = missing(self.definition.resources(), self.integrations)
        if absent:
            raise MissingIntegration(
                f"{self.definition_file.name} calls {', '.join(absent)}, which the local runtime "
                "cannot play; add an integration in lake/integrations/ or change the definition"
            )
        self._prepare_validator()
        self.recover_interrupted()
        self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="execution")
        return self

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let running executions finish first."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None
        for restore in reversed(self._restore_validator):
            restore()  # the process's validator is as it was (other code may use it too)
        self._restore_validator = []
        if self.store is not None and wait:
            # Executions still RUNNING now were queued and never began: close them as
            # interrupted, so that the next `lake watch` starts their files again.
            self.recover_interrupted()
            self.store.close()
            self.store = None

    def spark(self) -> Any:
        """The warm SparkSession, created on first use with the catalog in this home, and the
        table created by the contract's Athena DDL."""
        with self._spark_lock:
            if self._spark is None:
                from lake.spark import local_spark_session

                factory = self._spark_factory or local_spark_session
                session = factory(self.home.root)
                url = session.sparkContext.getConf().get(
                    "spark.hadoop.javax.jdo.option.ConnectionURL", ""
                )
                if str(self.home.catalog) not in url:
                    raise EngineError(
                        f"this process's Spark catalog is not in {self.home.catalog} ({url}); "
                        "a process serves one lake home: run this in a new process"
                    )
                self._create_table(session)
                self._spark = session
            return self._spark

    def _create_table(self, session: Any) -> None:
        s = self.home.settings
        run_sql(session, f"CREATE DATABASE IF NOT EXISTS `{s.database}`")
        run_sql(session, create_table_sql(s.database, s.table, table_location(self.home)))

    def _build_integrations(self) -> dict[str, Any]:
        from functions import validate

        return {
            LAMBDA_INVOKE: LambdaInvoke(
                self.home, {self.home.settings.validate_function_name: validate.handler}
            ),
            GLUE_START_JOB_RUN_SYNC: GlueStartJobRun(self.home, self.glue_script, self.spark),
            S3_GET_OBJECT: S3GetObject(self.home),
            ATHENA_START_QUERY_SYNC: AthenaStartQueryExecution(self.home, self.spark),
            SNS_PUBLISH: SnsPublish(self.home),
        }

    def _prepare_validator(self) -> None:
        """Serve the validator's S3 client from the home, and its logs into execution logs."""
        from functions import validate

        client = LocalS3Client(self.home)
        original_client = validate.s3_client
        validate.s3_client = lambda: client  # type: ignore[attr-defined]
        restores = [lambda: setattr(validate, "s3_client", original_client)]
        for value in vars(validate).values():
            if type(value).__name__ == "Logger" and hasattr(value, "registered_handler"):
                restores.append(route_powertools_logger(value))
        self._restore_validator = restores

    def recover_interrupted(self) -> list[ExecutionRecord]:
        """Close executions left RUNNING by a process that is gone (we hold the lock, so no
        one else runs them): ABORTED with `Lake.Interrupted`, an ExecutionAborted event
        appended so history and redrive stay coherent. No alert: nobody aborted them."""
        assert self.store is not None
        orphans = self.store.list_executions(status="RUNNING")
        now = dt.datetime.now(dt.UTC)
        for record in orphans:
            events = self.store.events(record.arn)
            last_id = events[-1]["id"] if events else 0
            cause = INTERRUPTED_CAUSE.format(name=record.name)
            self.store.add_event(
                record.arn,
                {
                    "timestamp": now.isoformat(),
                    "type": "ExecutionAborted",
                    "id": last_id + 1,
                    "previousEventId": last_id,
                    "executionAbortedEventDetails": {"error": INTERRUPTED, "cause": cause},
                },
            )
            self.store.update_execution(
                record.arn,
                status="ABORTED",
                error=INTERRUPTED,
                cause=cause,
                stop_date=now.timestamp(),
            )
        return orphans

    # --- events in ------------------------------------------------------------------------
    def object_version(self, bucket: str, key: str) -> ObjectVersion | None:
        path = self.home.object_path(bucket, key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return ObjectVersion(bucket, key, stat.st_size, stat.st_mtime_ns, path)

    def object_landed(self, bucket: str, key: str) -> str | None:
        """A file is in a bucket (put by the CLI or any program): emit S3's "Object Created"
        event once per object version and start an execution if the rule matches. Returns the
        execution's name (also when this version was already started), or None."""
        return self.land(bucket, key)[0]

    def land(self, bucket: str, key: str) -> tuple[str | None, bool]:
        """`object_landed`, also saying whether this call started the execution. One PUT
        gives one event: the ledger of object versions (key, size, mtime) turns the file
        watcher's and the uploader's notices of the same version into one execution."""
        version = self.object_version(bucket, key)
        if version is None:
            return None, False
        assert self.store is not None
        with self._landing:
            started = self.store.object_execution(bucket, key, version.size, version.mtime_ns)
            if started:
                record = self.store.find_execution(started)
                if record and not (record.status == "ABORTED" and record.error == INTERRUPTED):
                    return record.name, False
            etag = file_etag(version.path)
            event = object_created_event(
                bucket, key, version.size, etag, version_id=version_id(version.path)
            )
            record = self.deliver(event)
            self.store.record_object(
                bucket, key, version.size, version.mtime_ns, etag, record.arn if record else None
            )
            return (record.name, True) if record else (None, False)

    def deliver(self, event: Mapping[str, Any]) -> ExecutionRecord | None:
        """EventBridge: start the workflow with `event` as input when the stack's rule
        matches it."""
        pattern = object_created_rule_pattern(self.home.settings.raw_bucket)
        if not patterns.matches(pattern, event):
            return None
        detail = event["detail"]
        key = unquote_plus(detail["object"]["key"])  # S3 URL-encodes keys in its events
        return self.start(
            dict(event),
            name=execution_name_for(key),
            source=(detail["bucket"]["name"], key),
        )

    # --- executions ----------------------------------------------------------------------
    def start(
        self,
        input: Mapping[str, Any],
        *,
        name: str | None = None,
        source: tuple[str, str] | None = None,
        rerun_of: str | None = None,
    ) -> ExecutionRecord:
        """Record a new RUNNING execution and run it on the pool; returns at once."""
        assert self.store is not None and self._pool is not None, "engine is not open"
        name = name or execution_name_for(source[1] if source else "execution")
        record = ExecutionRecord(
            arn=self.home.execution_arn(name),
            name=name,
            state_machine_arn=self.home.state_machine_arn,
            status="RUNNING",
            input=event_json(input),
            start_date=dt.datetime.now(dt.UTC).timestamp(),
            source_bucket=source[0] if source else None,
            source_key=source[1] if source else None,
            rerun_of=rerun_of,
        )
        self.store.insert_execution(record)
        self._submit(self._run, record, dict(input))
        return record

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
        """RedriveExecution: continue the execution at the state that did not finish.
        Raises NotRedrivable with AWS's reason when it cannot be redriven."""
        assert self.store is not None
        record = self.find(identifier)
        previous_events = self.store.events(record.arn)
        began = threading.Event()
        store = self.store

        def redrive_began() -> None:
            # Runs in the execution's thread before its next event, so it cannot overwrite
            # the final status of a fast redrive.
            if not began.is_set():
                store.update_execution(
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

    def find(self, identifier: str) -> ExecutionRecord:
        assert self.store is not None
        record = self.store.find_execution(identifier)
        if record is None:
            raise ExecutionNotFound(
                f"no execution named {identifier!r} in {self.home.root}; "
                "`lake executions` lists them"
            )
        return record

    def wait_idle(self) -> None:
        """Block until every execution submitted so far has finished."""
        while True:
            with self._futures_lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            for future in pending:
                future.exception()

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        assert self._pool is not None, "engine is not open"
        future = self._pool.submit(fn, *args)
        with self._futures_lock:
            self._futures = {f for f in self._futures if not f.done()} | {future}
        return future

    def _executor(self, arn: str, on_first_event: Callable[[], None] | None = None) -> Executor:
        store = self.store
        assert store is not None

        def on_event(event: dict) -> None:
            store.add_event(arn, event)
            if on_first_event:
                on_first_event()

        return Executor(
            self.definition, self.integrations, on_event=on_event, time_scale=self.time_scale
        )

    def _run(self, record: ExecutionRecord, input: dict) -> None:
        executor = self._executor(record.arn)
        try:
            result = executor.start(
                execution_arn=record.arn,
                name=record.name,
                input=input,
                state_machine_arn=record.state_machine_arn,
                abort=self.abort,
            )
        except Exception as e:  # the interpreter itself broke: record it, never lose it
            self._finish(record, "FAILED", None, "Lake.RuntimeError", f"{type(e).__name__}: {e}")
            raise
        self._finish(record, result.status, result.output, result.error, result.cause)

    def _redrive(self, record: ExecutionRecord, executor: Executor, events: list[dict]) -> None:
        assert self.store is not None
        try:
            result = executor.redrive(
                events,
                execution_arn=record.arn,
                name=record.name,
                state_machine_arn=record.state_machine_arn,
                abort=self.abort,
            )
        except NotRedrivable:
            raise
        except Exception as e:
            self._finish(record, "FAILED", None, "Lake.RuntimeError", f"{type(e).__name__}: {e}")
            raise
        record.redrive_count = result.redrive_count
        self._finish(
            record, result.status, result.output, result.error, result.cause, redriven=True
        )

    def _finish(
        self,
        record: ExecutionRecord,
        status: str,
        output: Any,
        error: str | None,
        cause: str | None,
        redriven: bool = False,
    ) -> None:
        assert self.store is not None
        now = dt.datetime.now(dt.UTC)
        interrupted = status == "ABORTED" and self.abort.is_set()
        if interrupted:
            error, cause = INTERRUPTED, INTERRUPTED_CAUSE.format(name=record.name)
        changes: dict[str, Any] = {
            "status": status,
            "output": None if output is None else event_json(output),
            "error": error,
            "cause": cause,
            "stop_date": now.timestamp(),
        }
        if redriven:
            changes["redrive_count"] = record.redrive_count
        self.store.update_execution(record.arn, **changes)
        if status in ALERT_STATUSES and not interrupted:
            self._status_changed(self.find(record.arn))

    def _status_changed(self, record: ExecutionRecord) -> None:
        """EventBridge: the execution's status change event, routed to the alert when the
        stack's rule matches it."""
        assert self.store is not None
        event = execution_status_change_event(
            execution_arn=record.arn,
            state_machine_arn=record.state_machine_arn,
            name=record.name,
            status=record.status,
            start_date=record.started,
            stop_date=record.stopped,
            input=record.input,
            output=record.output,
            error=record.error,
            cause=record.cause,
            redrive_count=record.redrive_count,
            redrive_date=None
            if record.redrive_date is None
            else dt.datetime.fromtimestamp(record.redrive_date, dt.UTC),
        )
        from functions.alert import format_alert

        if patterns.matches(alert_rule_pattern(self.home.state_machine_arn), event):
            alert = format_alert(event, self.store.events(record.arn))
            publish(self.home, alert.subject, alert.body)

    # --- queries -------------------------------------------------------------------------
    def query(self, sql: str) -> QueryOutcome:
        """Run SQL against the lake's catalog (current database: the table's)."""
        return run_sql(self.spark(), sql, self.home.settings.database)

    def landed_objects(self) -> list[ObjectVersion]:
        """Every file in the raw bucket (hidden temporary files excluded)."""
        root = self.home.bucket_path(self.home.settings.raw_bucket)
        versions = []
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.relative_to(root).parts):
                stat = path.stat()
                versions.append(
                    ObjectVersion(
                        self.home.settings.raw_bucket,
                        path.relative_to(root).as_posix(),
                        stat.st_size,
                        stat.st_mtime_ns,
                        path,
                    )
                )
        return versions


__all__ = ["Engine", "EngineError", "ExecutionNotFound", "NotRedrivable"]
