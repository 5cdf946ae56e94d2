"""`arn:aws:states:::glue:startJobRun.sync` played locally: the Glue script in `glue/` runs as
`__main__` on this process's warm SparkSession, with the job's default arguments (those the CDK
job sets) merged with the state's `Arguments`, exactly as Glue builds the script's argv.

s3:// URIs of the lake's buckets are handed to the script as file:// URIs of the bucket folders
(the original values stay in the JobRun's `Arguments`).

Job run queuing, played locally: a job runs at most `max_concurrent_runs` runs at once and the
runs beyond that wait their turn, in the order they were started, instead of failing (on AWS,
with `JobRunQueuingEnabled`, StartJobRun answers at once and the run waits in state WAITING;
`ConcurrentRunsExceededException` is what queuing spares the workflow). Here as there the Task
is submitted at once (TaskSubmitted in the history) and then waits; `job_run(id)` shows a run's
state as GetJobRun would (WAITING, RUNNING, SUCCEEDED, FAILED), and the execution's log says
when it waited and for how long.

The local limit is 1 (`local_max_concurrent_runs`), whatever `glueMaxConcurrentRuns` allows on
AWS: the runs share the process's one SparkSession on a small machine (two at once would only
share its cores, and its memory, not finish sooner) and the script reads its arguments from
`sys.argv`, which is process-wide. Executions are not limited by it: a run waiting for its turn
holds only its own execution's thread, and the slot is handed over first come, first served, so
no run waits forever while later ones pass it."""

from __future__ import annotations

import collections
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
from typing import Any, ClassVar

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


def local_max_concurrent_runs(settings: Any) -> int:
    """How many runs of the job the local runtime runs at once: 1 (see the module docstring),
    and never more than the stack's MaxConcurrentRuns (`glueMaxConcurrentRuns`)."""
    return max(1, min(int(settings.glue_max_concurrent_runs), 1))


class JobRunQueue:
    """At most `limit` runs at once; the others wait, first come first served."""

    _per_job: ClassVar[dict[str, JobRunQueue]] = {}
    _registry = threading.Lock()

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self._turns = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()
        self.running = 0
        self.peak = 0  # the most runs ever running at once (observed)

    @classmethod
    def for_job(cls, job_name: str, limit: int) -> JobRunQueue:
        """The process-wide queue of a job (the runs of every engine in this process share the
        one SparkSession)."""
        with cls._registry:
            queue = cls._per_job.get(job_name)
            if queue is None:
                queue = cls._per_job[job_name] = cls(limit)
            return queue

    @property
    def waiting(self) -> int:
        with self._turns:
            return len(self._waiting)

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None) -> Iterator[float]:
        """Wait for this run's turn (calling `on_wait(runs ahead)` first when it must wait); the
        seconds waited."""
        ticket = object()
        began = time.monotonic()
        with self._turns:
            self._waiting.append(ticket)
            must_wait = self.running >= self.limit or self._waiting[0] is not ticket
            if must_wait and on_wait is not None:
                on_wait(self.running + len(self._waiting) - 1)
            while self.running >= self.limit or self._waiting[0] is not ticket:
                self._turns.wait()
            self._waiting.popleft()
            self.running += 1
            self.peak = max(self.peak, self.running)
            self._turns.notify_all()  # the next in line may fit too (limit > 1)
        try:
            yield time.monotonic() - began
        finally:
            with self._turns:
                self.running -= 1
                self._turns.notify_all()


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


class GlueStartJobRun:
    """The local `glue:startJobRun.sync` integration for the project's one Glue job. `queue`:
    the job's run queue (default: the process-wide one, `local_max_concurrent_runs` at once)."""

    def __init__(
        self,
        home: LakeHome,
        script: Path,
        ensure_spark: Callable[[], Any],
        defaults: Mapping[str, str] | None = None,
        queue: JobRunQueue | None = None,
    ) -> None:
        self.home = home
        self.script = Path(script)
        self.ensure_spark = ensure_spark
        self.defaults = dict(defaults if defaults is not None else default_arguments(home))
        self.queue = queue or JobRunQueue.for_job(
            home.settings.transform_job_name, local_max_concurrent_runs(home.settings)
        )
        self._job_runs: dict[str, dict[str, Any]] = {}  # GetJobRun's view, by run id
        self._job_runs_lock = threading.Lock()

    def job_run(self, run_id: str) -> dict[str, Any] | None:
        """A run as GetJobRun shows it (its JobRunState: WAITING, RUNNING, SUCCEEDED, FAILED)."""
        with self._job_runs_lock:
            run = self._job_runs.get(run_id)
            return dict(run) if run is not None else None

    def _state(self, run: dict[str, Any], state: str) -> None:
        run["JobRunState"] = state
        run["LastModifiedOn"] = _millis(dt.datetime.now(dt.UTC))
        with self._job_runs_lock:
            self._job_runs[run["Id"]] = dict(run)

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
            "JobRunQueuingEnabled": True,
            "StartedOn": _millis(dt.datetime.now(dt.UTC)),
        }
        execution_name = request.context["Execution"]["Name"]
        with logging_to(self.home.execution_log(execution_name)):
            # StartJobRun answers at once (TaskSubmitted); with queuing the run may then wait.
            self._state(run, "WAITING")
            request.submitted({"JobRunId": run["Id"]})

            def waiting(ahead: int) -> None:
                _log(f"Glue job run {run['Id']} WAITING: {ahead} run(s) of {job_name} ahead")

            with self.queue.turn(waiting) as waited:
                return self._run(run, arguments, job_name, waited)

    def _run(
        self, run: dict[str, Any], arguments: Mapping[str, str], job_name: str, waited: float
    ) -> dict[str, Any]:
        self._state(run, "RUNNING")
        clock = time.monotonic()
        if waited >= 0.5:
            _log(f"Glue job run {run['Id']} waited {waited:.1f} s for its turn")
        _log(f"Glue job run {run['Id']} of {job_name} started: {' '.join(arguments)}")
        error = self._run_script(arguments)
        completed = dt.datetime.now(dt.UTC)
        run.update(
            CompletedOn=_millis(completed),
            LastModifiedOn=_millis(completed),
            ExecutionTime=max(round(time.monotonic() - clock), 0),
        )
        if error:
            run["ErrorMessage"] = error
            self._state(run, "FAILED")
            _log(f"Glue job run {run['Id']} FAILED: {error}")
            raise TaskFailure("States.TaskFailed", json.dumps(run))
        self._state(run, "SUCCEEDED")
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
