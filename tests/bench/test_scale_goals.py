"""Issue 11's goals are judged from a run's results as the issue words them, and the Glue cost
projection follows its stated assumptions (pure functions: no JVM, no timing)."""

from __future__ import annotations

import pytest

from bench import goals_scale, report, report_scale, scale
from bench.transform import DUCKDB, OURS_COLD, OURS_WARM, SPARK_COPY

MiB = 2**20


def _summary(label: str, rows: int, impl: str, wall: float, cpu: float, rss: float) -> dict:
    return {
        "input": label,
        "rows": rows,
        "impl": impl,
        "ok_runs": 1,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss": rss,
        "input_bytes": rows * 134,
    }


def _results() -> dict:
    inputs = [
        {"label": "1M", "rows": 1_000_000, "date_ranges": "default", "file": "a.csv"},
        {"label": "10M", "rows": 10_000_000, "date_ranges": "default", "file": "b.csv"},
    ]
    summaries = [
        _summary("1M", 1_000_000, OURS_WARM, 8.0, 15.0, 1000 * MiB),
        _summary("1M", 1_000_000, OURS_COLD, 30.0, 50.0, 1100 * MiB),
        _summary("1M", 1_000_000, DUCKDB, 3.5, 6.0, 700 * MiB),
        _summary("10M", 10_000_000, OURS_WARM, 80.0, 150.0, 1200 * MiB),
        _summary("10M", 10_000_000, OURS_COLD, 100.0, 170.0, 1500 * MiB),
        _summary("10M", 10_000_000, DUCKDB, 35.0, 60.0, 4900 * MiB),
    ]
    return {
        "local_cores": 2,
        "transform": {"inputs": inputs, "summaries": summaries},
        "cores": {
            "input": "10M",
            "rows": 10_000_000,
            "ok": True,
            "local1_wall_s": 140.0,
            "local2_wall_s": 80.0,
        },
        "cold_start": {
            "rows": 20_000,
            "steps": {"first upload (fresh home)": 28.0, "upload 2 (new shell)": 7.5},
        },
        "burst": {"files": 50, "statuses": {"SUCCEEDED": 50}, "all_succeeded": True},
    }


@pytest.mark.parametrize(
    ("change", "goal_index", "met"),
    [
        ({}, 0, True),  # 10M: 80 / 35 = 2.29x <= 2.5
        ({}, 1, True),  # 1M: 8 / 3.5 = 2.29x
        ({}, 2, True),  # 150 CPU s / 80 s = 1.88 >= 1.8
        ({}, 3, True),  # local[1] 140 s / local[2] 80 s = 1.75 >= 1.7
        ({}, 4, False),  # cold 1,500 / 1,100 MiB = 1.36 > 1.25
        ({}, 5, False),  # 7.5 s > 6 s
        ({}, 6, True),  # 28 s <= 30 s
        ({}, 7, True),
        ({"burst": {"files": 50, "statuses": {"SUCCEEDED": 49, "FAILED": 1}}}, 7, False),
        ({"cores": {}}, 3, None),
        ({"cold_start": {"error": "no JVM"}}, 5, None),
    ],
)
def test_a_goal_is_met_not_met_or_not_measured(change, goal_index, met):
    results = {**_results(), **change}
    assert goals_scale.evaluate(results)[goal_index].met is met


def test_the_duckdb_goal_names_sparks_floor_when_it_ran():
    # GIVEN a run that also measured Spark copying the 10M file without the job's work
    results = _results()
    floor = _summary("10M", 10_000_000, SPARK_COPY, 49.0, 95.0, 1300 * MiB)
    results["transform"]["summaries"].append(floor)
    # WHEN the goal is judged THEN its numbers say how far that floor is from DuckDB
    goal = goals_scale.evaluate(results)[0]
    assert goal.evidence.endswith("(Spark's floor, the copy alone: 49.0 s, 1.40x)")
    # AND without it, the goal reads as before
    assert "floor" not in goals_scale.evaluate(_results())[0].evidence


def test_the_glue_projection_follows_its_assumptions():
    # GIVEN 100 CPU s of work on 1 GB with the local cores busy 90 % of the time
    # WHEN a 2 GB export runs on 3 G.1X workers (2 executors of 4 vCPUs)
    cost = scale.glue_cost(cpu_s=100.0, input_bytes=10**9, busy_share=0.9, workers=3, gb=2.0)
    # THEN it takes 200 CPU s over 8 vCPUs busy 90 %, plus the start-up, billed at least 60 s
    wall = scale.GLUE_START_S + 200.0 / (8 * 0.9)
    assert cost["wall_s"] == pytest.approx(wall)
    assert cost["billed_s"] == pytest.approx(max(wall, 60.0))
    assert cost["usd"] == pytest.approx(3 * max(wall, 60.0) / 3600 * 0.44)
    # AND a tiny export pays the one-minute minimum
    tiny = scale.glue_cost(cpu_s=100.0, input_bytes=10**9, busy_share=0.9, workers=2, gb=0.01)
    assert tiny["billed_s"] == 60.0


def test_the_report_has_the_scale_sections():
    results = _results()
    text = "\n".join(
        report.markdown_table(table(results))
        for table in (report_scale.scale_goals_table, report_scale.glue_cost_table)
    )
    assert "## Goals (issue 11: Scale)" in text
    assert "| a second `lake upload` (20k rows) from a new shell" in text
    assert "Projection: Glue cost" in text
    assert "https://aws.amazon.com/glue/pricing/" in text
