"""`arn:aws:states:::glue:startJobRun.sync` played locally: the Glue script in `glue/` runs as
`__main__` on this process's warm SparkSession, with the job's default arguments (those the CDK
job sets) merged with the state's `Arguments`, exactly as Glue builds the script's argv.

s3:// URIs of the lake's buckets are handed to the script as file:// URIs of the bucket folders
(the original values stay in the JobRun's `Arguments`). Runs are serialized: they share one
SparkSession on a small machine, and `sys.argv` is process-wide."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import runpy
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from glue import logs as job_logs
from lake.asl import TaskFailure, TaskRequest
from lake.aws.logs import ROUTING_STREAM, logging_to
from lake.home import LakeHome

GLUE_VERSION = "5.1"


def default_arguments(home: LakeHome) -> dict[str, str]:
    """The job's DefaultArguments as the stack sets them, with the local buckets' names."""
    return home.settings.job_arguments(home.settings.curated_bucket)


def _millis(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


class GlueStartJobRun:
    """The local `glue:startJobRun.sync` integration for the project's one Glue job."""

    _runs = threading.Lock()  # one Glue run at a time per process (see the module docstring)

    def __init__(
        self,
        home: LakeHome,
        script: Path,
        ensure_spark: Callable[[], Any],
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        self.home = home
        self.script = Path(script)
        self.ensure_spark = ensure_spark
        self.defaults = dict(defaults if defaults is not None else default_arguments(home))

    def script_argv(self, arguments: Mapping[str, str]) -> list[str]:
        """argv as Glue passes it: `script --name value ...`, with lake URIs made local."""
        argv = [str(self.script)]
        for name, value in arguments.items():
            argv += [name, self.home.local_uri(str(value))]
        return argv

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        job_name = request.parameters.get("JobName")
        if job_name != self.home.settings.transform_job_name:
            raise TaskFailure(
                "Glue.EntityNotFoundException",
                f"Job {job_name!r} not found (the local Glue job is "
                f"{self.home.settings.transform_job_name!r})",
            )
        run_arguments = dict(request.parameters.get("Arguments") or {})
        arguments = {**self.defaults, **run_arguments}
        run: dict[str, Any] = {
            "Id": f"jr_{secrets.token_hex(32)}",
            "Attempt": 0,
            "JobName": job_name,
            "JobMode": "SCRIPT",
            "Arguments": run_arguments,  # GetJobRun shows the run's own, not the defaults
            "GlueVersion": GLUE_VERSION,
            "WorkerType": self.home.settings.glue_worker_type,
            "NumberOfWorkers": self.home.settings.glue_number_of_workers,
            "Timeout": self.home.settings.glue_timeout_minutes,
            "ExecutionClass": "STANDARD",
            "LogGroupName": "/aws-glue/jobs",
            "PredecessorRuns": [],
        }
        execution_name = request.context["Execution"]["Name"]
        with self._runs, logging_to(self.home.execution_log(execution_name)):
            started = dt.datetime.now(dt.UTC)
            clock = time.monotonic()
            run["StartedOn"] = _millis(started)
            request.submitted({"JobRunId": run["Id"]})  # StartJobRun's answer: TaskSubmitted
            _log(f"Glue job run {run['Id']} of {job_name} started: {' '.join(arguments)}")
            error = self._run_script(arguments)
            completed = dt.datetime.now(dt.UTC)
            run.update(
                CompletedOn=_millis(completed),
                LastModifiedOn=_millis(completed),
                ExecutionTime=max(round(time.monotonic() - clock), 0),
            )
            if error:
                run.update(JobRunState="FAILED", ErrorMessage=error)
                _log(f"Glue job run {run['Id']} FAILED: {error}")
                raise TaskFailure("States.TaskFailed", json.dumps(run))
            run["JobRunState"] = "SUCCEEDED"
            _log(f"Glue job run {run['Id']} SUCCEEDED in {run['ExecutionTime']} s")
        return run

    def _run_script(self, arguments: Mapping[str, str]) -> str | None:
        """Run the script; None on success, else Glue's ErrorMessage for the run."""
        try:
            self.ensure_spark()  # the script's getOrCreate() then finds the warm session
            # The job's JSON log lines (stdout on Glue, where CloudWatch collects them) go to the
            # execution's log: configured first here, the script's own call changes nothing.
            job_logs.configure_logging(ROUTING_STREAM)
            with _argv(self.script_argv(arguments)):
                runpy.run_path(str(self.script), run_name="__main__")
        except SystemExit as e:
            if e.code not in (None, 0):
                return f"SystemExit: the script exited with status {e.code}"
        except Exception as e:
            _log("".join(traceback.format_exception(e)).rstrip())
            # Glue reports the Python exception as "<Type>: <message>".
            return f"{type(e).__name__}: {e}"
        return None


def _log(text: str) -> None:
    from lake.aws.logs import current_log

    file = current_log()
    if file is not None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        file.write(f"{stamp} INFO glue: {text}\n")
        file.flush()
