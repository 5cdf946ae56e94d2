"""`lake serve` (issue 12 item 1, the process): one long-running process for a lake home that
owns the warm engine, watches the raw bucket, serves the other `lake` commands, says what it
serves on start, and stops cleanly on Ctrl-C or SIGTERM. Run here with --no-console (the
console is the web app's, imported only when wanted)."""

from __future__ import annotations

import json
import shutil
import signal

import pytest
from engine_processes import (
    alive,
    engine_pid,
    lake,
    popen,
    read_line_containing,
    refused_file,
    rest_of,
    stop_engine,
    wait_until,
)

from lake.home import LakeHome
from lake.runtime import Lake


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    yield home
    stop_engine(home)


class Serving:
    def __init__(self, home, *args: str) -> None:
        self.proc = popen(home, "serve", "--no-console", *args)
        try:
            self.lines = read_line_containing(self.proc.stderr, "Ctrl-C stops")
        except BaseException:
            self.proc.kill()  # never leave a serve behind
            self.proc.wait()
            raise

    def stop(self, signum=signal.SIGINT) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        err = rest_of(self.proc.stderr)
        self.proc.wait(timeout=180)
        self.proc.stdout.close()
        return self.proc.returncode, err


def _executions(home) -> list[dict]:
    return json.loads(lake(home, "executions", "--json").stdout)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_owns_watches_serves_and_stops_cleanly(home, tmp_path, signum):
    # GIVEN `lake serve --no-console` on a fresh home
    serving = Serving(home)
    try:
        # THEN it says what it serves
        text = "\n".join(serving.lines)
        assert f"lake serve: the engine of {home} (pid {serving.proc.pid})" in text
        assert f"served warm over {LakeHome(home).socket_path}" in text
        assert "watching" in text and "travel_times/<city>/" in text
        assert "console: off (--no-console)" in text
        assert engine_pid(home) == serving.proc.pid
        owner = Lake(LakeHome(home)).engine_owner()
        assert (owner.pid, owner.role) == (serving.proc.pid, "serve")
        # WHEN a program drops a file into the raw bucket folder THEN it starts an execution
        raw = home / "buckets" / "movement-lake-raw" / "travel_times" / "bogota"
        raw.mkdir(parents=True, exist_ok=True)
        shutil.copy(refused_file(tmp_path, "dropped.csv"), raw / "dropped.csv")
        wait_until(
            lambda: (
                [e["sourceKey"] for e in _executions(home)] == ["travel_times/bogota/dropped.csv"]
            ),
            what="the watcher to start an execution",
        )
        # WHEN another command needs the engine THEN serve serves it (nothing is started)
        upload = lake(home, "upload", str(refused_file(tmp_path)), "--city", "lima")
        assert upload.returncode == 1, upload.stderr
        assert "starting a warm engine" not in upload.stderr
        assert engine_pid(home) == serving.proc.pid
        wait_until(
            lambda: (
                {e["status"] for e in _executions(home)} == {"FAILED"}
                and len(_executions(home)) == 2
            ),
            what="both executions to end",
        )
    finally:
        # WHEN Ctrl-C (or SIGTERM) THEN it stops cleanly
        status, err = serving.stop(signum)
    assert status == 0, err
    assert err.rstrip().endswith("stopped")
    assert "Traceback" not in err
    assert engine_pid(home) is None
    assert not LakeHome(home).socket_path.exists()


def test_lake_stop_stops_serve_too(home):
    serving = Serving(home)
    done = lake(home, "stop")
    assert done.returncode == 0, done.stderr
    assert f"stopping `lake serve` (pid {serving.proc.pid})" in done.stderr
    serving.proc.wait(timeout=180)  # it stops by itself
    status, err = serving.stop()
    assert status == 0, err


def test_serve_takes_over_from_the_background_engine(home, tmp_path):
    assert lake(home, "upload", str(refused_file(tmp_path)), "--city", "bogota").returncode == 1
    daemon = engine_pid(home)
    assert daemon is not None
    serving = Serving(home)
    try:
        assert any(
            f"taking over from the background engine (pid {daemon})" in x for x in serving.lines
        )
        assert engine_pid(home) == serving.proc.pid
        wait_until(lambda: not alive(daemon), what="the background engine to exit")
    finally:
        status, err = serving.stop()
    assert status == 0, err


def test_a_second_serve_is_refused_and_names_the_first(home):
    serving = Serving(home)
    try:
        second = lake(home, "serve", "--no-console")
        assert second.returncode == 1
        assert f"`lake serve` (pid {serving.proc.pid}) owns" in second.stderr
        watch = lake(home, "watch")
        assert watch.returncode == 1 and "`lake serve`" in watch.stderr
    finally:
        status, _ = serving.stop()
    assert status == 0


def test_serving_beyond_this_machine_needs_a_token(home):
    done = lake(home, "serve", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "--token" in done.stderr
    assert engine_pid(home) is None


def test_the_console_is_imported_only_when_wanted(home):
    # --no-console never imports lake.ui.web (another engineer's, maybe not there yet)
    serving = Serving(home)
    status, err = serving.stop()
    assert status == 0 and "lake.ui.web" not in err


# `lake serve` with a stand-in console: the wiring (lake.ui.web is the web engineer's).
FAKE_WEB = """
import sys, types
calls = []
web = types.ModuleType("lake.ui.web")
class WebServer:
    url = "http://127.0.0.1:{port}/"
    def close(self):
        print("console closed", file=sys.stderr, flush=True)
def start_web(lake, *, host, port, token):
    print(f"start_web host={host} port={port} token={token} home={lake.home.root}",
          file=sys.stderr, flush=True)
    server = WebServer()
    server.url = f"http://{host}:{port}/"
    return server
web.start_web = start_web
sys.modules["lake.ui.web"] = web if {present} else None
from lake.ui import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def _serve_with(home, present: bool, *args: str):
    import subprocess
    import sys

    from engine_processes import env

    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            FAKE_WEB.replace("{present}", str(present)),
            "serve",
            *args,
            "--home",
            str(home),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )


def test_serve_starts_the_console_with_its_host_port_and_token_and_closes_it(home):
    proc = _serve_with(home, True, "--port", "8799", "--host", "0.0.0.0", "--token", "s3cret")
    try:
        lines = read_line_containing(proc.stderr, "Ctrl-C stops")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    text = "\n".join(lines)
    assert f"start_web host=0.0.0.0 port=8799 token=s3cret home={home}" in text
    assert "console and Step Functions API: http://0.0.0.0:8799/" in text
    assert "(requests need the token)" in text
    proc.send_signal(signal.SIGINT)
    rest = rest_of(proc.stderr)
    assert proc.wait(timeout=180) == 0
    assert "console closed" in rest and rest.rstrip().endswith("stopped")


def test_serve_without_the_console_module_says_how_to_run_without_it(home):
    proc = _serve_with(home, False)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1
    assert "the console cannot start" in err and "--no-console" in err
    assert "Traceback" not in err
    assert engine_pid(home) is None
