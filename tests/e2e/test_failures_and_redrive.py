"""Failures end to end: a rejected file alerts by e-mail; a Glue failure is redriven after the
cause is fixed, continuing at the Glue state."""

from __future__ import annotations

import shutil

import pytest
from e2e_support import export, lake, lake_json, query
from smtp_support import smtp_server

from contract.formats import TRAVEL_TIMES
from lake.aws.sns import read_outbox

pytestmark = pytest.mark.e2e


def test_a_rejected_file_fails_at_validate_and_the_alert_names_file_state_and_reason(
    lake_home, capsys, tmp_path, monkeypatch
):
    # GIVEN a mail server, and an export that lacks its Date Range column
    source = tmp_path / "no-dates.csv"
    header = [name for name in TRAVEL_TIMES.required_headers if name != "Date Range"]
    source.write_text(",".join(header) + "\n2922,Zone A,9,Zone B,2164,1666,2809\n")
    key = "travel_times/bogota/no-dates.csv"
    with smtp_server(monkeypatch, to="data-team@example.com") as inbox:
        # WHEN it is uploaded
        status, out, _ = lake(capsys, "upload", str(source), "--key", key)
    # THEN the execution fails at Validate, and the user is told to fix the file
    assert status == 1
    assert "at Validate" in out and "Date Range" in out and "upload it again" in out
    [execution] = lake_json(capsys, "executions", "--status", "FAILED")
    assert execution["sourceKey"] == key
    # AND one alert arrived by SMTP naming the file, the state and the reason
    [mail] = inbox.messages
    text = mail["Subject"] + "\n" + mail.get_content()
    for expected in (key, "Validate", "Date Range"):
        assert expected in text
    # AND the same alert is in the outbox
    [kept] = read_outbox(lake_home)
    assert kept["subject"] == mail["Subject"]
    assert kept["delivery"].startswith("sent to data-team@example.com")


def test_a_glue_failure_is_redriven_at_transform_without_validating_again(
    lake_home, capsys, tmp_path
):
    # GIVEN the table exists, and the curated travel_times folder is a FILE: Glue cannot write
    assert (
        lake(capsys, "upload", str(export(tmp_path / "a.csv", rows=50)), "--city", "quito")[0] == 0
    )
    table = lake_home.bucket_path(lake_home.settings.curated_bucket) / "travel_times"
    shutil.rmtree(table)
    table.write_text("not a folder")
    # WHEN a file is uploaded
    source = export(tmp_path / "b.csv", rows=120, seed=3)
    status, out, err = lake(capsys, "upload", str(source), "--city", "bogota")
    # THEN it fails at Transform, with Glue's error, and says how to redrive
    assert status == 1
    [failed] = lake_json(capsys, "executions", "--status", "FAILED")
    described = lake_json(capsys, "describe", failed["name"])
    assert described["failedState"] == "Transform"
    assert described["error"] == "States.TaskFailed"
    assert f"lake redrive {failed['name']}" in out
    # WHEN the cause is fixed and the execution redriven
    table.unlink()
    status, out, err = lake(capsys, "redrive", failed["name"])
    # THEN it succeeds, Validate did not run again, and history shows the redrive
    assert status == 0, err
    history = lake_json(capsys, "history", failed["name"])
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")
    ]
    assert entered.count("Validate") == 1
    assert entered.count("Transform") == 2
    assert [e["type"] for e in history].count("ExecutionRedriven") == 1
    assert lake_json(capsys, "describe", failed["name"])["redriveCount"] == 1
    [row] = query(capsys, "SELECT count(*) AS n FROM travel_times WHERE city = 'bogota'")
    assert row["n"] == 120
