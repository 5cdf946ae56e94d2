"""Every stage of the job's plan keeps Spark's generated code within the JVM's limit for
compiling a method (`glue.stages`): a stage past it runs operator by operator, each projection
copying every row (measured: a warm 1M-row run took 23.6 s that way, 20.4 s compiled)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from contract.formats import recognise
from glue import rows
from glue.job import Counting, classified_rows
from glue.lines import LineSurvey
from glue.stages import HUGE_METHOD_LIMIT
from lake.ui.generate import FORMATS, generate

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_stage_of_the_jobs_plan_generates_a_method_too_large_to_compile(spark, tmp_path, name):
    # GIVEN an export of that format, planned as the job plans it (split read, the shuffle by
    # start date, the checks, the table rows in the order they are written); adaptive execution
    # off, so that the whole plan is there before it runs
    path = tmp_path / f"{name}.csv"
    generate(path, rows=50, seed=3, export_format=name)
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    recognised = recognise(header)
    survey = LineSurvey(splittable=True)
    classified = classified_rows(spark, str(path), header, recognised, Counting("t"), survey)
    table = rows.table_rows(classified, "k", "city", dt.datetime(2026, 1, 1), name, True)
    adaptive = spark.conf.get("spark.sql.adaptive.enabled")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        written = rows.in_write_order(table, bool(recognised.format.periods))
        plan = written._jdf.queryExecution().executedPlan()
    finally:
        spark.conf.set("spark.sql.adaptive.enabled", adaptive)
    # WHEN Spark generates and compiles the code of each of its stages
    debug = spark._jvm.org.apache.spark.sql.execution.debug.package
    stages = debug.codegenStringSeq(plan)
    sizes = [stages.apply(i)._3().maxMethodCodeSize() for i in range(stages.size())]
    # THEN each stage's largest method is within the limit (the checks take three stages)
    assert len(sizes) >= 7, sizes
    assert max(sizes) <= HUGE_METHOD_LIMIT, sizes
