"""A lake home as the faces see it (the CLI, the console, the Step Functions API): the workflow,
its executions and their histories, and the requests a person makes (upload, rerun, redrive,
stop, query, watch). Nothing else of the runtime is theirs to import.

Reads come from the execution database, at any time, from any process (`LakeReads`, in
`lake.runtime.reads`). Requests that change something go to the engine: the one another `lake`
process serves for the home (see `lake.runtime.service`), else, with `daemon=True`, a background
engine started for the home (`lake.runtime.daemon`), else one this process owns; taken on first
need, left on `close`."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.events import object_created_rule_pattern
from contract.layout import EXPECTED_LAYOUT, RAW_PREFIX
from lake.aws.event_patterns import matches
from lake.aws.events import object_created_event
from lake.aws.s3 import copy_file_into
from lake.aws.sql_engine import QueryOutcome
from lake.home import LakeHome
from lake.runtime.engine_client import connect
from lake.runtime.engine_lock import lock_holder, lock_is_free, try_lock
from lake.runtime.engine_server import EngineServer
from lake.runtime.errors import EngineError
from lake.runtime.executions import execution_name_for
from lake.runtime.reads import LakeReads
from lake.runtime.service import EngineAPI, engine_access, owning


@dataclass(frozen=True)
class EngineOwner:
    """The process that serves a home's engine: its pid and role (daemon, serve, watch,
    command; see `lake.runtime.service`)."""

    pid: int
    role: str


class Lake(LakeReads):
    """One lake home. Use as a context manager: leaving it leaves the engine (an engine this
    process owns first finishes the executions it runs)."""

    def __init__(
        self,
        home: LakeHome,
        *,
        parallel: int = 1,
        time_scale: float = 1.0,
        daemon: bool = False,
        idle_timeout_s: float | None = None,
        on_engine_starting: Any = None,
    ) -> None:
        """`daemon`: when no process serves the home, start a background engine for it (warm
        for the commands after this one) instead of owning one here; `idle_timeout_s` is its
        idle timeout (default: LAKE_IDLE_TIMEOUT, else 15 min); `on_engine_starting()` is
        called just before it is started (to say so)."""
        super().__init__(home)
        self._engine_options = {"parallel": parallel, "time_scale": time_scale}
        self._daemon = daemon
        self._idle_timeout_s = idle_timeout_s
        self._on_engine_starting = on_engine_starting
        self._engine: EngineAPI | None = None
        self._exits = contextlib.ExitStack()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if isinstance(error, BaseException) and self._engine is not None:
            # Ctrl-C (or an error) while following: the executions this process runs stop at
            # their next state instead of being waited for; they end interrupted.
            self.interrupt()
        self.close()

    def close(self) -> None:
        self._exits.close()
        self._engine = None

    # --- requests (to the engine) --------------------------------------------------------------
    def connect(self) -> bool:
        """Take the engine now; True when another process serves it (it is warm)."""
        return self._engine_api().remote

    @property
    def engine_started(self) -> bool:
        """Whether this Lake started the home's background engine (the first command did)."""
        return bool(getattr(self._engine, "started_daemon", False))

    def _engine_api(self) -> EngineAPI:
        with self._opening:
            if self._engine is None:
                self._engine = self._exits.enter_context(
                    engine_access(
                        self.home,
                        daemon=self._daemon,
                        idle_timeout_s=self._idle_timeout_s,
                        on_starting=self._on_engine_starting,
                        **self._engine_options,
                    )
                )
            return self._engine

    # --- the engine's owner ---------------------------------------------------------------------
    def engine_owner(self) -> EngineOwner | None:
        """Who serves this home's engine now (None: nobody; nothing is started by asking)."""
        remote = connect(self.home)
        if remote is None:
            return None
        try:
            return EngineOwner(remote.owner_pid, remote.role)
        finally:
            remote.close()

    def engine_running(self) -> bool:
        """Whether some process owns this home's engine now (executions can only progress
        while one does)."""
        return not lock_is_free(self.home)

    def stop_engine(self, now: bool = False, wait_s: float | None = None) -> dict[str, Any] | None:
        """`lake stop`: ask the background engine (or `lake serve`) to stop: it takes no new
        request, lets running executions finish (with `now`, interrupts them: they end
        interrupted and can be redriven) and exits. Waits up to `wait_s` (None: until it has
        exited). None when nothing serves the home; its answer (pid, running, now,
        exited) otherwise. Refused (RemoteError) for a foreground `lake watch` or command."""
        remote = connect(self.home)
        if remote is None:
            return None
        try:
            answer = dict(remote.shutdown(now))
        finally:
            remote.close()
        answer["exited"] = self.wait_engine_stopped(wait_s)
        return answer

    def wait_engine_stopped(self, wait_s: float | None = None) -> bool:
        """Wait until no process owns the engine (up to `wait_s`; None: as long as it takes);
        whether none does."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        while True:
            lock = try_lock(self.home)
            if lock is not None:
                lock.close()
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def _take_home(self, announce: Any = None) -> Any:
        """The engine lock, for a foreground owner (`lake watch`, `lake serve`): a background
        engine serving the home is asked to hand it over (its running executions finish
        first); any other owner is named in the refusal."""
        lock = try_lock(self.home)
        if lock is not None:
            return lock
        owner = self.engine_owner()
        if owner is not None and owner.role == "daemon":
            if announce is not None:
                announce(
                    f"taking over from the background engine (pid {owner.pid}): it stops once "
                    "its running executions finish"
                )
            self.stop_engine(wait_s=None)
            lock = try_lock(self.home)
            if lock is not None:
                return lock
        pid = owner.pid if owner else lock_holder(self.home)
        what = f"`lake {owner.role}`" if owner else "another lake process"
        raise EngineError(
            f"{what} (pid {pid or '?'}) owns {self.home.root} (see {self.home.lock_path}); "
            "stop it or wait for it, then start this again"
        )

    def check_upload(self, key: str) -> None:
        """Raise ValueError, saying why, when an upload to `key` would not start the workflow."""
        raw = self.home.settings.raw_bucket
        if not matches(object_created_rule_pattern(raw), object_created_event(raw, key, 0, "0")):
            raise ValueError(
                f"key {key!r} would not start the workflow: the rule takes only keys under "
                f"{RAW_PREFIX} ending in .csv or .csv.gz ({EXPECTED_LAYOUT})"
            )

    def upload(self, source: Path, key: str) -> str:
        """Put a file into the raw bucket at `key` and hand it to EventBridge: the name of the
        execution its event started. Refuses, before copying, a key the rule would not take."""
        self.check_upload(key)
        raw = self.home.settings.raw_bucket
        engine = self._engine_api()
        copy_file_into(self.home, raw, key, source)
        landing = engine.object_landed(raw, key)
        if landing.execution is None:  # the file vanished, or the rule changed under us
            raise EngineError(f"s3://{raw}/{key} did not start an execution")
        return landing.execution

    def start(self, state_machine: str, input: dict[str, Any], name: str | None = None) -> str:
        """StartExecution: a new execution of a state machine (name or ARN); its name."""
        return self._engine_api().start(self.state_machine(state_machine).name, input, name)

    def rerun(self, identifier: str) -> str:
        """A new execution with the same input; its name."""
        self.execution(identifier)  # a clear error before the engine starts
        return self._engine_api().rerun(identifier)

    def redrive(self, identifier: str) -> str:
        """Continue a failed execution at the state that did not finish (NotRedrivable, with
        AWS's reason, when it cannot be)."""
        self.execution(identifier)
        return self._engine_api().redrive(identifier)

    def stop(self, identifier: str, error: str | None = None, cause: str | None = None) -> str:
        self.execution(identifier)
        return self._engine_api().stop(identifier, error, cause)

    def query(self, sql: str) -> QueryOutcome:
        """Run SQL against the lake's catalog."""
        return self._engine_api().query(sql)

    def backfill(
        self,
        prefix: str,
        *,
        only_failed: bool = False,
        max_concurrency: int | None = None,
        tolerated_failure_percentage: float | None = None,
    ) -> str:
        """Start the backfill workflow over a raw-bucket prefix (its ASL file checks the input
        and fails with what it must be); the name of its execution."""
        options: dict[str, Any] = {"prefix": prefix, "only_failed": only_failed}
        if max_concurrency is not None:
            options["max_concurrency"] = max_concurrency
        if tolerated_failure_percentage is not None:
            options["tolerated_failure_percentage"] = tolerated_failure_percentage
        scope = prefix if prefix.rstrip("/") != RAW_PREFIX.rstrip("/") else "all-cities"
        name = f"backfill-{execution_name_for(scope)}"  # e.g. backfill-bogota-<time>-<hex>
        return self.start(self.home.settings.backfill_state_machine_name, options, name)

    # SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat: tokens live in the engine whose
    # execution waits, so these go to the engine's owner.
    def send_task_success(self, task_token: str, output: str) -> None:
        """Complete the task waiting for `task_token` with `output` (JSON text)."""
        self._engine_api().send_task_success(task_token, output)

    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """Fail the task waiting for `task_token` with `error` and `cause`."""
        self._engine_api().send_task_failure(task_token, error, cause)

    def send_task_heartbeat(self, task_token: str) -> None:
        """Tell the task waiting for `task_token` that its work goes on."""
        self._engine_api().send_task_heartbeat(task_token)

    def interrupt(self) -> None:
        """Stop the executions this process runs at their next state (they end interrupted)."""
        interrupt = getattr(self._engine, "interrupt", None)
        if interrupt is not None:
            interrupt()

    # --- the long-running service ------------------------------------------------------------
    def watch(
        self,
        stop: threading.Event,
        console: Any,
        ready: threading.Event | None = None,
        on_start: Any = None,
        warm: bool = False,
    ) -> None:
        """Own the engine and start an execution for every file that lands in the raw bucket,
        until `stop` is set. `on_start(engine_interrupt)` is called once the engine is open.
        With `warm`, Spark, the catalog and the job warm up meanwhile, giving way to real work
        (see `lake.runtime.warm_up`)."""
        from lake.runtime.daemon import running_executions
        from lake.runtime.warm_up import warm_up
        from lake.runtime.watcher import RawFolderWatcher

        lock = self._take_home(getattr(console, "print", None))
        servers: list[EngineServer] = []
        with owning(
            self.home, lock, role="watch", on_server=servers.append, **self._engine_options
        ) as engine:
            self._engine = engine
            if on_start is not None:
                on_start()
            if warm:

                def quiet() -> bool:
                    return not servers[0].busy() and running_executions(engine) == 0

                threading.Thread(
                    target=warm_up, args=(engine, quiet, stop), name="warm-up", daemon=True
                ).start()
            RawFolderWatcher(engine, console).run(stop, ready)

    def serve(
        self,
        stop: threading.Event,
        console: Any,
        *,
        on_ready: Any = None,
        watch: bool = True,
        warm: bool = True,
    ) -> None:
        """`lake serve`: own the engine in the foreground (taking over from a background one),
        serve it to the other `lake` commands, watch the raw bucket (with `watch`) and warm up,
        until `stop` is set or `lake stop` asks. `on_ready(engine, server)` is called once it
        serves (e.g. to start the web console); it may return a callable, called on stopping."""
        from lake.runtime.daemon import serve_engine
        from lake.runtime.watcher import RawFolderWatcher

        lock = self._take_home(getattr(console, "print", None))
        threads: list[threading.Thread] = []
        stoppers: list[Any] = []

        def ready(engine: Any, server: EngineServer) -> None:
            self._engine = engine
            if watch:
                watcher = RawFolderWatcher(engine, console)
                watched = threading.Event()
                thread = threading.Thread(
                    target=watcher.run, args=(stop, watched), name="watcher", daemon=True
                )
                thread.start()
                threads.append(thread)
                watched.wait(60)
            if on_ready is not None:
                stopper = on_ready(engine, server)
                if callable(stopper):
                    stoppers.append(stopper)

        def stopping() -> None:
            stop.set()
            for stopper in stoppers:
                stopper()
            for thread in threads:
                thread.join(timeout=60)

        serve_engine(
            self.home,
            role="serve",
            idle_timeout_s=0,
            stop=stop,
            on_ready=ready,
            on_stopping=stopping,
            warm=warm,
            lock=lock,
            **self._engine_options,
        )
