"""One process owns a lake home's engine; the others reach it over the home's socket."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from lake.asl import NotRedrivable
from lake.aws.sql_engine import QueryOutcome
from lake.home import LakeHome
from lake.runtime.engine_client import connect
from lake.runtime.engine_lock import try_lock
from lake.runtime.engine_server import EngineServer
from lake.runtime.errors import RemoteError
from lake.runtime.eventbridge import Landing
from lake.runtime.service import engine_access


class OwnerEngine:
    """Stands in for the owner's Engine: answers what the real one answers."""

    def object_landed(self, bucket, key):
        return Landing(f"started-{key.rsplit('/', 1)[-1]}", True)

    def rerun(self, identifier):
        raise AssertionError("not used")

    def redrive(self, identifier):
        raise NotRedrivable("Execution is SUCCEEDED and cannot be redriven.")

    def stop(self, identifier, error=None, cause=None):
        raise AssertionError("not used")

    def start(self, machine, input, name=None):
        raise AssertionError("not used")

    def query(self, sql):
        return QueryOutcome(["n"], [(42,)])


def test_only_one_process_owns_the_engine_and_a_dead_owner_frees_it(tmp_path):
    home = LakeHome(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time, pathlib
            from lake.home import LakeHome
            from lake.runtime.engine_lock import try_lock
            lock = try_lock(LakeHome(pathlib.Path({str(tmp_path)!r})))
            print("locked", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert try_lock(home) is None
    finally:
        holder.kill()  # a kill, not a clean exit: the kernel drops the lock
        holder.wait()
    deadline = time.monotonic() + 10
    lock = None
    while lock is None and time.monotonic() < deadline:
        lock = try_lock(home)
    assert lock is not None
    lock.close()


def test_a_second_command_uses_the_running_owner(tmp_path):
    # GIVEN an owner serving its engine
    home = LakeHome(tmp_path).ensure()
    lock = try_lock(home)
    server = EngineServer(home, OwnerEngine())
    try:
        # WHEN another command asks for the engine
        with engine_access(home, timeout_s=5) as engine:
            # THEN it talks to the owner
            assert engine.remote
            assert engine.object_landed("raw", "travel_times/a/x.csv").execution == "started-x.csv"
            assert engine.query("SELECT 42").rows == [(42,)]
            # and the owner's refusals arrive with their kind and AWS's reason
            with pytest.raises(RemoteError) as refused:
                engine.redrive("x")
            assert refused.value.kind == "NotRedrivable"
            assert str(refused.value) == "Execution is SUCCEEDED and cannot be redriven."
    finally:
        server.close()
        lock.close()


def test_without_an_owner_there_is_nothing_to_connect_to(tmp_path):
    assert connect(LakeHome(tmp_path)) is None
