"""Warm by default (issue 11 item 4): the first command that needs the engine leaves a
background engine running for the home, the next commands (new processes, as from new shells)
are served by it; it is started exactly once when commands race, stops when idle or on
`lake stop`, never blocks the next command when it died, and can be opted out of. And the
home's files are its owner's only."""

from __future__ import annotations

import json
import os
import signal
import stat
import threading

import pytest
from engine_processes import (
    alive,
    engine_pid,
    lake,
    popen,
    read_line_containing,
    refused_file,
    stop_engine,
    wait_until,
)

from lake.home import LakeHome

STARTING = "starting a warm engine for this lake home"


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    yield home
    stop_engine(home)


def _executions(home) -> list[dict]:
    done = lake(home, "executions", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_first_command_leaves_a_warm_engine_and_the_next_is_served_by_it(home, tmp_path):
    # GIVEN a fresh home and nobody serving it
    # WHEN a command that needs the engine runs
    first = lake(home, "upload", str(refused_file(tmp_path)), "--city", "bogota")
    # THEN it started a background engine, saying so in one line, and was served by it
    assert first.returncode == 1, first.stderr  # (Validate refused the file: FAILED)
    announced = [line for line in first.stderr.splitlines() if STARTING in line]
    assert len(announced) == 1
    assert "lake stop" in announced[0] and "engine.log" in announced[0]
    pid = engine_pid(home)
    assert pid is not None and alive(pid)
    log = (home / "logs" / "engine.log").read_text()
    assert "serving the engine of" in log and "stops after 15 min idle" in log
    # WHEN the next command runs, in a new process
    second = lake(home, "upload", str(refused_file(tmp_path, "bad2.csv")), "--city", "lima")
    # THEN the same engine serves it, and nothing is started or announced
    assert second.returncode == 1, second.stderr
    assert STARTING not in second.stderr
    assert engine_pid(home) == pid
    assert {e["status"] for e in _executions(home)} == {"FAILED"}
    assert len(_executions(home)) == 2
    # WHEN `lake stop` runs THEN the engine stops, and says what happened
    stopped = lake(home, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopping the background engine (pid {pid}): no execution was running" in (
        stopped.stderr
    )
    assert stopped.stderr.rstrip().endswith("stopped")
    wait_until(lambda: not alive(pid), what="the engine to exit")
    assert engine_pid(home) is None
    assert not LakeHome(home).socket_path.exists()
    assert "lake stop: stopping" in (home / "logs" / "engine.log").read_text()
    # and a `lake stop` with nothing running says so
    again = lake(home, "stop")
    assert again.returncode == 0 and "nothing to stop" in again.stderr


@pytest.mark.parametrize("opt_out", ["env", "flag"])
def test_opting_out_runs_the_engine_in_the_command(home, tmp_path, opt_out):
    args = ["upload", str(refused_file(tmp_path)), "--city", "bogota"]
    if opt_out == "flag":
        done = lake(home, *args, "--no-daemon")
    else:
        done = lake(home, *args, LAKE_NO_DAEMON="1")
    assert done.returncode == 1, done.stderr
    assert STARTING not in done.stderr
    assert "this command runs the engine itself" in done.stderr
    assert engine_pid(home) is None  # nothing left running
    assert not (home / "logs" / "engine.log").exists()
    assert [e["status"] for e in _executions(home)] == ["FAILED"]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_engine_stops_by_itself_when_idle(home, tmp_path, how):
    args = ["upload", str(refused_file(tmp_path)), "--city", "bogota"]
    if how == "flag":
        done = lake(home, *args, "--idle-timeout", "1s")
    else:
        done = lake(home, *args, LAKE_IDLE_TIMEOUT="1")
    assert done.returncode == 1, done.stderr
    assert "stops after 1 s idle" in done.stderr
    wait_until(lambda: engine_pid(home) is None, timeout_s=90, what="the idle engine to stop")
    assert "idle for 1 s: stopping" in (home / "logs" / "engine.log").read_text()


def test_a_bad_idle_timeout_is_bad_use(home, tmp_path):
    done = lake(home, "query", "SELECT 1", "--idle-timeout", "soon")
    assert done.returncode == 2
    assert "not a duration" in done.stderr


def test_two_commands_racing_start_exactly_one_engine(home, tmp_path):
    # GIVEN two commands started at the same moment on a fresh home
    files = [refused_file(tmp_path, f"bad{i}.csv") for i in range(2)]
    procs = [popen(home, "upload", str(f), "--city", "bogota") for f in files]
    outputs = [p.communicate(timeout=120) for p in procs]
    # THEN both were served, by one engine, started by exactly one of them
    assert [p.returncode for p in procs] == [1, 1], outputs
    assert sum(STARTING in err for _, err in outputs) == 1
    log = (home / "logs" / "engine.log").read_text()
    assert log.count("serving the engine of") == 1, log
    assert len(_executions(home)) == 2


def test_a_killed_engine_never_blocks_the_next_command(home, tmp_path):
    # GIVEN a background engine killed outright (its socket file left behind)
    assert lake(home, "upload", str(refused_file(tmp_path)), "--city", "x1").returncode == 1
    pid = engine_pid(home)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), what="the kill")
    assert LakeHome(home).socket_path.exists()
    # WHEN the next command runs THEN a new engine serves it
    done = lake(home, "upload", str(refused_file(tmp_path, "b.csv")), "--city", "x2")
    assert done.returncode == 1, done.stderr
    assert STARTING in done.stderr
    new_pid = engine_pid(home)
    assert new_pid not in (None, pid)
    assert len(_executions(home)) == 2


def test_lake_watch_takes_over_from_the_background_engine(home, tmp_path):
    assert lake(home, "upload", str(refused_file(tmp_path)), "--city", "bogota").returncode == 1
    daemon = engine_pid(home)
    watch = popen(home, "watch")
    try:
        lines = read_line_containing(watch.stderr, "watching")
        assert any(f"taking over from the background engine (pid {daemon})" in x for x in lines)
        assert engine_pid(home) == watch.pid
        assert not alive(daemon)
        # and `lake stop` leaves a foreground owner alone, saying how to stop it
        refused = lake(home, "stop")
        assert refused.returncode == 1
        assert f"owned by `lake watch` (pid {watch.pid}) in the foreground" in refused.stderr
        assert "Ctrl-C" in refused.stderr
        assert watch.poll() is None
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=180)
    assert watch.returncode == 0


def test_the_homes_files_are_the_owners_only(home, tmp_path):
    # GIVEN a fresh home after a failed upload (its database, logs, alert outbox, the engine's
    # log and socket, the buckets), with a permissive umask in the shell
    previous = os.umask(0o022)
    try:
        done = lake(home, "upload", str(refused_file(tmp_path)), "--city", "bogota")
        pid = engine_pid(home)
        socket_mode = stat.S_IMODE(os.stat(LakeHome(home).socket_path).st_mode)
    finally:
        os.umask(previous)
    assert done.returncode == 1, done.stderr
    assert pid is not None
    # THEN the home is 0700, every folder in it 0700 and every file 0600 (or stricter)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert socket_mode == 0o600
    seen = set()
    for path in home.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        seen.add(path.relative_to(home).parts[0])
    assert {"lake.db", "logs", "outbox", "buckets", "engine.lock"} <= seen
    assert list((home / "outbox").glob("*.eml")), "the alert was written"
    assert (home / "logs" / "engine.log").exists()


def test_commands_that_only_read_start_no_engine(home):
    assert lake(home, "executions").returncode == 0
    assert lake(home, "alerts").returncode == 0
    assert engine_pid(home) is None


def test_an_engine_started_for_one_home_serves_only_that_home(tmp_path):
    homes = [tmp_path / "a", tmp_path / "b"]
    try:
        threads = [
            threading.Thread(
                target=lake,
                args=(h, "upload", str(refused_file(tmp_path, f"{h.name}.csv")), "--city", "x"),
            )
            for h in homes
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        pids = {engine_pid(h) for h in homes}
        assert None not in pids and len(pids) == 2
    finally:
        for h in homes:
            stop_engine(h)


def test_following_an_execution_whose_engine_died_ends_with_what_to_do(tmp_path):
    # GIVEN an execution left RUNNING and no process owning the home (its engine was killed)
    from rich.console import Console

    from lake.runtime import EngineError, Lake
    from lake.runtime.history_db import ExecutionRecord, ExecutionStore
    from lake.ui.progress import follow

    home = LakeHome(tmp_path / "home").ensure()
    ExecutionStore(home.db_path).insert_execution(
        ExecutionRecord(
            arn=home.execution_arn("orphan-1"),
            name="orphan-1",
            state_machine_arn=home.state_machine_arn,
            status="RUNNING",
            input="{}",
            start_date=1.0,
        )
    )
    # WHEN a command follows it THEN it does not wait forever: it says what happened and what
    # to do
    with open(os.devnull, "w") as quiet, pytest.raises(EngineError) as stopped:
        follow(Lake(home), "orphan-1", Console(file=quiet), poll_s=0.01)
    assert "stopped before it ended" in str(stopped.value)
    assert "lake redrive orphan-1" in str(stopped.value)


def test_a_home_whose_database_had_the_old_name_keeps_its_executions(tmp_path):
    from lake.runtime import Lake
    from lake.runtime.history_db import ExecutionRecord, ExecutionStore

    root = tmp_path / "home"
    root.mkdir()
    old = ExecutionStore(root / "lake.runtime.history_db")
    old.insert_execution(
        ExecutionRecord(
            arn="arn:aws:states:us-east-1:0:execution:m:x-1",
            name="x-1",
            state_machine_arn="arn:aws:states:us-east-1:0:stateMachine:m",
            status="SUCCEEDED",
            input="{}",
            start_date=1.0,
        )
    )
    old.close()
    lake = Lake(LakeHome(root))
    assert [r.name for r in lake.executions()] == ["x-1"]
    assert (root / "lake.db").exists() and not (root / "lake.runtime.history_db").exists()
