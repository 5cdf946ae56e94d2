"""The benchmark harness end to end on a tiny input (the peers only: no JVM, well under a
minute). It checks that the report is well formed, not how fast anything is: benchmarks are
reported, never asserted in tests."""

from __future__ import annotations

import json
import subprocess
import sys

from settings import PROJECT_ROOT


def test_quick_harness_writes_a_well_formed_report(tmp_path):
    # GIVEN tiny exports and only the two peers (DuckDB and the reference approach)
    results_md = tmp_path / "RESULTS.md"
    chart_png = tmp_path / "results.png"
    # fmt: off
    args = [
        "--quick", "--sizes", "2000", "--daily-rows", "1000", "--runs", "2",
        "--impls", "reference_pandas,duckdb", "--sections", "transform,query",
        "--out", str(tmp_path / "out"), "--results", str(results_md), "--chart", str(chart_png),
    ]
    # fmt: on

    # WHEN the harness runs as `make bench` runs it (python -m bench, from the project root)
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # THEN every run succeeded and wrote every row, and the report and the chart exist
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "quick" / "results.json").read_text())
    records = results["transform"]["records"]
    assert len(records) == 2 * 2 * 2  # inputs (2k, 1k daily) x implementations x runs
    assert all(r["ok"] and r["rows_written"] == r["rows"] for r in records)
    assert results["query"]["same_answer"] is True
    report = results_md.read_text()
    assert "| input | implementation | n |" in report
    assert "## Goals (issue 5)" in report
    assert "Transform: CSV -> partitioned Parquet" in done.stdout
    assert chart_png.stat().st_size > 0
