"""The engine of a lake home: the workflow definition wired to its local AWS services, the warm
SparkSession behind Glue and Athena, the executions, and the EventBridge that starts them.

One process at a time owns the engine of a home (see `lake.runtime.service`); every request
another process makes of it is one of the methods below (`object_landed`, `start`, `rerun`,
`redrive`, `stop`, `query`, `send_task_success`, `send_task_failure`, `send_task_heartbeat`).
Glue runs take turns inside their integration: they share the one SparkSession of a small
machine. Each state machine has its own pool of executions, so a backfill's parent never holds a
slot its ingest children need; the children a parent starts (`states:startExecution`) are
normal executions of their state machine, linked to it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import settings as project_settings
from contract import layout
from contract.columns import DATA_COLUMNS
from contract.table import add_columns_sql, create_table_sql
from lake.asl import NotRedrivable, StateMachineDefinition, TaskTokens, load_definition
from lake.aws import (
    ATHENA_START_QUERY_SYNC,
    GLUE_START_JOB_RUN_SYNC,
    LAMBDA_INVOKE,
    S3_GET_OBJECT,
    S3_GET_OBJECT_ITEMS,
    S3_LIST_OBJECTS_ITEMS,
    S3_PUT_OBJECT_RESULTS,
)
from lake.aws.athena import AthenaStartQueryExecution
from lake.aws.glue import GlueStartJobRun
from lake.aws.lambda_ import LambdaInvoke
from lake.aws.logs import function_logger
from lake.aws.s3 import LocalS3Client, S3GetObject
from lake.aws.s3_items import S3GetObjectItems, S3ListObjectsItems, S3PutObjectResults
from lake.aws.sns import LocalSnsClient, publish, topic_arn
from lake.aws.sql_engine import QueryOutcome, run_sql
from lake.aws.step_functions import (
    START_EXECUTION,
    START_EXECUTION_CALLBACK,
    START_EXECUTION_SYNC,
    START_EXECUTION_SYNC_2,
    StartExecution,
)
from lake.home import LakeHome
from lake.runtime.children import ChildStarter
from lake.runtime.errors import (
    EngineError,
    ExecutionNotFound,
    MissingIntegration,
    StateMachineNotFound,
)
from lake.runtime.eventbridge import EventBridge, HistoryReader, Landing, alert_delivery
from lake.runtime.executions import Executions
from lake.runtime.history_db import ExecutionStore
from lake.runtime.map_runs import MapRunRecorder


def definition_substitutions(home: LakeHome) -> dict[str, str]:
    """The values of the definitions' ${placeholders} for the local runtime (of every state
    machine's file), named as the CDK stack's DefinitionSubstitutions."""
    s = home.settings
    return {
        "ValidateFunctionArn": home.validate_function_arn,
        "TransformJobName": s.transform_job_name,
        "CuratedBucket": s.curated_bucket,
        "AthenaWorkGroup": s.athena_workgroup,
        "Database": s.database,
        # the backfill's
        "RawBucket": s.raw_bucket,
        "IngestStateMachineArn": home.state_machine_arn,
        "DefaultMaxConcurrency": str(s.glue_max_concurrent_runs),
    }


def workflow_files(home: LakeHome) -> dict[str, Path]:
    """The state machines the stack deploys, by name, and the ASL file of each (the ingest
    workflow first)."""
    return {
        home.settings.state_machine_name: project_settings.STATE_MACHINE_FILE,
        home.settings.backfill_state_machine_name: project_settings.BACKFILL_STATE_MACHINE_FILE,
    }


def load_workflow(
    home: LakeHome, path: Path = project_settings.STATE_MACHINE_FILE
) -> StateMachineDefinition:
    """An ASL file the stack deploys (by default the ingest workflow's), with the local
    substitutions."""
    return load_definition(path, definition_substitutions(home))


def table_location(home: LakeHome) -> str:
    """The table's LOCATION: the curated bucket's `travel_times/` folder, as a file:// URI."""
    return home.local_uri(f"s3://{home.settings.curated_bucket}/{layout.TABLE_PREFIX}")


class Engine:
    """Runs the workflow for one lake home. Use as a context manager, or open()/close()."""

    remote = False  # (a RemoteEngine is the same requests, served by another process)

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
        self._catalog_lock = threading.Lock()
        self._catalog_ready = False
        self.store: ExecutionStore | None = None
        self.workflows: dict[str, Executions] = {}  # by state machine name
        self.executions: Executions | None = None  # the ingest workflow's
        self.events: EventBridge | None = None
        # One registry for every executor of this engine: a callback reaches any of them.
        self.task_tokens = TaskTokens()

    # --- life cycle ----------------------------------------------------------------------
    def __enter__(self) -> Engine:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> Engine:
        """Prepare the home, load the definitions and check that every service they call is
        played locally, close the executions a dead process left running."""
        self.home.ensure()
        files = workflow_files(self.home)
        files[self.home.settings.state_machine_name] = self.definition_file
        definitions = {name: load_workflow(self.home, path) for name, path in files.items()}
        lambdas = self._lambdas()
        children = ChildStarter(self.home, self._workflow)
        integrations = {
            LAMBDA_INVOKE: lambdas,
            # The job needs the session only: the catalog (Hive, Derby) starts meanwhile.
            GLUE_START_JOB_RUN_SYNC: GlueStartJobRun(self.home, self.glue_script, self.session),
            S3_GET_OBJECT: S3GetObject(self.home),
            ATHENA_START_QUERY_SYNC: AthenaStartQueryExecution(self.home, self.spark),
            S3_LIST_OBJECTS_ITEMS: S3ListObjectsItems(self.home),
            S3_GET_OBJECT_ITEMS: S3GetObjectItems(self.home),
            S3_PUT_OBJECT_RESULTS: S3PutObjectResults(self.home),
            START_EXECUTION: StartExecution(children, ""),
            START_EXECUTION_SYNC: StartExecution(children, ".sync"),
            START_EXECUTION_SYNC_2: StartExecution(children, ".sync:2"),
            # the child gets $$.Task.Token in its input; the task waits for SendTaskSuccess
            START_EXECUTION_CALLBACK: StartExecution(children, ""),
        }
        for name, definition in definitions.items():
            absent = sorted(definition.resources() - set(integrations))
            if absent:
                raise MissingIntegration(
                    f"{files[name].name} calls {', '.join(absent)}, which the local runtime "
                    "cannot play; add an integration in lake/aws/ or change the definition"
                )
        self.store = store = ExecutionStore(self.home.db_path)
        observer = MapRunRecorder(store)
        self.workflows = {
            name: Executions(
                self.home,
                store,
                definition,
                integrations,
                on_ended=lambda record: self.events.execution_ended(record),  # type: ignore[union-attr]
                parallel=self.parallel,
                time_scale=self.time_scale,
                machine=name,
                task_tokens=self.task_tokens,
                observer=observer,
            )
            for name, definition in definitions.items()
        }
        self.executions = self.workflows[self.home.settings.state_machine_name]
        alert_function = self.home.settings.alert_function_name
        self.events = EventBridge(
            self.home,
            store,
            self.executions,
            alert_delivery(
                lambda event: lambdas.invoke(
                    alert_function,
                    event,
                    log=self.home.execution_log(event["detail"]["name"]),
                ),
                lambda raw_event: publish(self.home, f"{alert_function} failed", raw_event),
            ),
        )
        for executions in self.workflows.values():
            executions.recover_interrupted()
        return self

    def _lambdas(self) -> LambdaInvoke:
        """The stack's two functions, built over the local clients they are handed."""
        from functions import alert, validate

        s = self.home.settings
        return LambdaInvoke(
            self.home,
            {
                s.validate_function_name: validate.make_handler(
                    LocalS3Client(self.home), function_logger(s.validate_function_name)
                ),
                s.alert_function_name: alert.make_handler(
                    HistoryReader(ExecutionStore(self.home.db_path)),
                    LocalSnsClient(self.home),
                    topic_arn(self.home),
                    function_logger(s.alert_function_name),
                ),
            },
        )

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let running executions finish first."""
        for executions in self.workflows.values():
            executions.close(wait=wait)
        if self.store is not None and wait:
            self.store.close()
            self.store = None

    def spark(self) -> Any:
        """The warm SparkSession with its catalog started and the table created by the
        contract's Athena DDL (what queries and Athena need)."""
        session = self.session()
        with self._catalog_lock:
            if not self._catalog_ready:
                self._create_table(session)  # the first catalog call starts Hive and Derby
                self._catalog_ready = True
        return session

    def session(self) -> Any:
        """The warm SparkSession, created on first use with its catalog in this home; the
        catalog itself starts on first need (`spark()`): the Glue job does not need it, so a
        cold first run does not wait for it."""
        with self._spark_lock:
            if self._spark is None:
                from lake.aws.spark import local_spark_session

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
                self._spark = session
            return self._spark

    def _create_table(self, session: Any) -> None:
        """The contract's table, created by its Athena DDL; a table made by an older version
        gains the contract's newer columns in place (old files read them as null; nothing is
        rewritten), as the stack's table definition does on deploy."""
        s = self.home.settings
        run_sql(session, f"CREATE DATABASE IF NOT EXISTS `{s.database}`")
        run_sql(session, create_table_sql(s.database, s.table, table_location(self.home)))
        present = {col.name for col in session.catalog.listColumns(f"`{s.database}`.`{s.table}`")}
        missing = [col for col in DATA_COLUMNS if col.name not in present]
        if missing:
            run_sql(session, add_columns_sql(s.database, s.table, missing))

    # --- the requests ----------------------------------------------------------------------
    def object_landed(self, bucket: str, key: str) -> Landing:
        assert self.events is not None, "engine is not open"
        return self.events.object_landed(bucket, key)

    def start(self, machine: str, input: dict[str, Any], name: str | None = None) -> str:
        """StartExecution of state machine `machine` (its name or ARN); the execution's name."""
        return self._workflow(machine).start(input, name=name).name

    def rerun(self, identifier: str) -> str:
        return self._workflow_of(identifier).rerun(identifier).name

    def redrive(self, identifier: str) -> str:
        return self._workflow_of(identifier).redrive(identifier).name

    def stop(self, identifier: str, error: str | None = None, cause: str | None = None) -> str:
        return self._workflow_of(identifier).stop(identifier, error, cause).name

    def query(self, sql: str) -> QueryOutcome:
        """Run SQL against the lake's catalog (current database: the table's)."""
        return run_sql(self.spark(), sql, self.home.settings.database)

    # SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat: to a task of this engine's
    # executions that waits for its token (`.waitForTaskToken`); the registry raises the API's
    # errors (InvalidToken, TaskDoesNotExist, TaskTimedOut, InvalidOutput).
    def send_task_success(self, task_token: str, output: str) -> None:
        self.task_tokens.send_success(task_token, output)

    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        self.task_tokens.send_failure(task_token, error, cause)

    def send_task_heartbeat(self, task_token: str) -> None:
        self.task_tokens.send_heartbeat(task_token)

    def interrupt(self) -> None:
        """Stop the running executions at their next state (they end interrupted)."""
        for executions in self.workflows.values():
            executions.interrupt()

    def wait_idle(self) -> None:
        for executions in self.workflows.values():
            executions.wait_idle()

    def _workflow(self, machine: str) -> Executions:
        name = machine.rsplit(":", 1)[-1]
        if name not in self.workflows:
            raise StateMachineNotFound(
                f"no state machine {machine!r} in this lake; its state machines are "
                f"{', '.join(self.workflows)}"
            )
        return self.workflows[name]

    def _workflow_of(self, identifier: str) -> Executions:
        assert self.store is not None, "engine is not open"
        record = self.store.find_execution(identifier)
        if record is None:
            raise ExecutionNotFound(
                f"no execution named {identifier!r} in {self.home.root}; "
                "`lake executions` lists them"
            )
        if record.map_run_arn:
            parent = self.store.find_execution(record.parent_arn or "")
            raise NotRedrivable(
                f"{record.name} is a child execution of a Map Run: redrive its parent "
                f"(`lake redrive {parent.name if parent else record.parent_arn}`), which "
                "redrives the Map Run's unsuccessful children"
            )
        return self._workflow(record.state_machine_arn)
