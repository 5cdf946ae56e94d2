"""`lake backfill` end to end: the real backfill ASL file drives the real ingest workflow (its
validator, Glue script on Spark and Athena SQL) once per export of a prefix, each a normal
execution; `--only-failed` takes exactly the files not yet in the lake; concurrency stays within
its bound; the parent, its Map Run and its children are visible, and a failed child redrivable.
`--only-failed` reads the commit records the job writes (`_commits/<source key>.json`)."""

from __future__ import annotations

import shutil

import pytest
from e2e_support import export, lake, lake_json, query

from contract.formats import TRAVEL_TIMES

pytestmark = pytest.mark.e2e

PREFIX = "travel_times/lima/"


def _raw(home, name: str):
    path = home.object_path(home.settings.raw_bucket, f"{PREFIX}{name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _no_date_range(path) -> None:
    header = [name for name in TRAVEL_TIMES.required_headers if name != "Date Range"]
    path.write_text(",".join(header) + "\n2922,Zone A,9,Zone B,2164,1666,2809\n")


def _peak_running(executions: list[dict]) -> int:
    edges = sorted(
        [(e["startDate"], 1) for e in executions] + [(e["stopDate"], -1) for e in executions]
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_a_backfill_reprocesses_a_prefix_and_only_failed_takes_what_is_not_in_the_lake(
    lake_home, capsys, tmp_path
):
    # GIVEN a file already in the lake, and one the validator rejected when it was uploaded
    assert (
        lake(
            capsys,
            "upload",
            str(export(tmp_path / "a.csv", rows=40, seed=1)),
            "--key",
            f"{PREFIX}a.csv",
        )[0]
        == 0
    )
    rejected = tmp_path / "was-rejected.csv"
    _no_date_range(rejected)
    assert lake(capsys, "upload", str(rejected), "--key", f"{PREFIX}was-rejected.csv")[0] == 1
    # AND since then (the contract learned its format, say) it reads well; two new good files
    # and one the validator rejects arrived without an event (copied into the bucket folder)
    export(_raw(lake_home, "was-rejected.csv"), rows=30, seed=2)
    export(_raw(lake_home, "b.csv"), rows=20, seed=3)
    export(_raw(lake_home, "c.csv"), rows=25, seed=4)
    _no_date_range(_raw(lake_home, "bad.csv"))

    # WHEN the prefix is backfilled, two files at a time, failures tolerated
    status, out, err = lake(
        capsys,
        "backfill",
        "--prefix",
        PREFIX,
        "--max-concurrency",
        "2",
        "--tolerated-failure-percentage",
        "50",
        "--parallel",
        "3",
    )
    # THEN every export went through the ingest workflow; bad.csv failed (so the command did)
    assert status == 1, err
    assert "5 re-processed" not in out and "4 re-processed, 1 failed" in out
    assert "lake describe" in out and "bad.csv" in out
    executions = lake_json(capsys, "executions")
    [parent] = [e for e in executions if "backfill" in e["stateMachineArn"]]
    assert parent["status"] == "SUCCEEDED"
    assert parent["name"].startswith("backfill-lima-")
    described = lake_json(capsys, "describe", parent["name"])
    [run] = described["mapRuns"]
    assert run["itemCounts"]["total"] == 5
    assert (run["itemCounts"]["succeeded"], run["itemCounts"]["failed"]) == (4, 1)
    children = {e["sourceKey"]: e for e in described["startedExecutions"]}
    assert set(children) == {
        f"{PREFIX}{n}" for n in ("a.csv", "was-rejected.csv", "b.csv", "c.csv", "bad.csv")
    }
    assert children[f"{PREFIX}bad.csv"]["status"] == "FAILED"
    assert children[f"{PREFIX}bad.csv"]["error"] == "MissingColumns"
    # AND each child is a normal ingest execution that knows who started it
    child = lake_json(capsys, "describe", children[f"{PREFIX}b.csv"]["name"])
    assert child["startedBy"] == parent["name"]
    assert child["counts"]["rows_written"] == 20
    # AND the lake holds every good file's rows, the once-rejected one included, once each
    rows = {
        r["source_key"]: r["n"]
        for r in query(capsys, "SELECT source_key, count(*) AS n FROM travel_times GROUP BY 1")
    }
    assert rows == {
        f"{PREFIX}a.csv": 40,
        f"{PREFIX}was-rejected.csv": 30,
        f"{PREFIX}b.csv": 20,
        f"{PREFIX}c.csv": 25,
    }
    # AND never more than two of its ingest executions ran at once
    started = [e for e in executions if e["name"] in {c["name"] for c in children.values()}]
    assert _peak_running(started) <= 2
    # AND the graph draws the Map state with its item counts
    svg = tmp_path / "backfill.svg"
    assert lake(capsys, "describe", parent["name"], "--graph", str(svg))[0] == 0
    drawing = svg.read_text()
    assert "ReprocessFiles" in drawing and "items: 4 succeeded, 1 failed of 5" in drawing

    # WHEN only the failed ones are backfilled
    # (failures tolerated: else the one failure stops the Map Run before it has looked at every
    # item, and how many it looked at would depend on timing)
    status, out, err = lake(
        capsys,
        "backfill",
        "--prefix",
        PREFIX,
        "--only-failed",
        "--tolerated-failure-percentage",
        "50",
    )
    # THEN exactly bad.csv went through again (and failed again)
    assert status == 1, err
    second = [e for e in lake_json(capsys, "executions") if "backfill" in e["stateMachineArn"]]
    newest = lake_json(capsys, "describe", second[0]["name"])
    assert [e["sourceKey"] for e in newest["startedExecutions"]] == [f"{PREFIX}bad.csv"]
    assert newest["mapRuns"][0]["itemCounts"]["succeeded"] == 4  # the others: skipped

    # WHEN bad.csv is fixed in place and its failed execution redriven
    failed = newest["startedExecutions"][0]["name"]
    shutil.copy(export(tmp_path / "fixed.csv", rows=15, seed=5), _raw(lake_home, "bad.csv"))
    status, out, err = lake(capsys, "redrive", failed)
    # THEN it succeeds, as any redriven ingest execution does
    assert status == 0, err
    [row] = query(
        capsys, f"SELECT count(*) AS n FROM travel_times WHERE source_key = '{PREFIX}bad.csv'"
    )
    assert row["n"] == 15
