"""The CLI's answers to wrong use: one clear sentence on stderr, no traceback, exit status 2
for bad use and 1 for a request that cannot be served."""

from __future__ import annotations

import pytest

from lake.ui import cli


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_HOME", str(tmp_path / "lake"))
    return tmp_path


def _run(capsys, *args: str) -> tuple[int, str]:
    status = cli.main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err


def test_upload_without_a_city_or_key_says_how_to_give_one(capsys, home):
    source = home / "2019.csv"
    source.write_text("x\n")
    status, err = _run(capsys, "upload", str(source))
    assert status == 2
    assert "--city CITY" in err and "travel_times/CITY/2019.csv" in err


def test_upload_of_a_key_the_rule_ignores_is_refused_before_anything_is_copied(capsys, home):
    source = home / "notes.txt"
    source.write_text("x\n")
    status, err = _run(capsys, "upload", str(source), "--city", "bogota")
    assert status == 2
    assert "would not start the workflow" in err
    assert not (home / "lake" / "buckets").exists()


def test_upload_of_a_missing_file(capsys, home):
    status, err = _run(capsys, "upload", str(home / "nope.csv"), "--city", "bogota")
    assert status == 2
    assert "is not a file" in err


@pytest.mark.parametrize("command", ["describe", "history", "rerun", "redrive"])
def test_an_unknown_execution_is_named_and_the_listing_command_suggested(capsys, command):
    status, err = _run(capsys, command, "no-such-execution")
    assert status == 1
    assert "no execution named 'no-such-execution'" in err and "lake executions" in err


def test_listing_an_empty_lake_says_how_to_start(capsys):
    assert cli.main(["executions"]) == 0
    assert "lake demo" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--prefix", "uploads/bogota/"], "--prefix must lie under travel_times/"),
        (["--prefix", "travel_times/", "--max-concurrency", "0"], "at least 1"),
        (["--prefix", "travel_times/", "--tolerated-failure-percentage", "120"], "0 and 100"),
    ],
)
def test_a_backfill_with_a_wrong_option_says_what_it_takes(capsys, args, says):
    status, err = _run(capsys, "backfill", *args)
    assert status == 2
    assert says in err


def test_send_task_success_needs_json_output(capsys):
    status, err = _run(capsys, "send-task-success", "t", "--output", "{not json")
    assert status == 2
    assert "--output must be JSON text" in err


@pytest.mark.parametrize(
    ("command", "token", "says"),
    [
        ("send-task-heartbeat", "not-a-token", "InvalidToken"),
        ("send-task-failure", "A" * 64, "TaskDoesNotExist"),
    ],
)
def test_a_token_no_task_waits_for_is_refused_in_one_sentence(capsys, command, token, says):
    status, err = _run(capsys, command, token)
    assert status == 1
    assert says in err and "lake watch" in err
