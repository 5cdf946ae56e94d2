"""Where a warm run's fixed cost goes: the line survey, building the job's DataFrame (py4j
calls, each `select` analysed eagerly), Catalyst's analysis and optimization, physical
planning, the write (which plans again and runs), and the footers' count of rows per partition.

    python -m bench.plan_cost --rows 20000 --runs 6

On a small file the run is mostly planning: this is the floor of a warm run whatever the size.
The first run also loads classes and compiles; read the later ones."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import tempfile
import time
from pathlib import Path

from bench.inputs import InputSpec, ensure_input
from bench.suite import OUT
from glue import job, rows
from glue.lines import survey_lines
from glue.object_store import storage_for
from glue.partition import PARTITION_NAMES
from glue.read import read_header, recognised_format
from lake.aws.spark import local_spark_session

KEY = "travel_times/bench-city/plan-cost.csv"
STEPS = ("survey", "build", "analyze", "optimize", "physical", "write", "footers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    source = str(ensure_input(InputSpec(args.rows), OUT / "inputs"))
    work = Path(tempfile.mkdtemp(prefix="plan-cost-"))
    try:
        spark = local_spark_session(work / "home")
        storage = storage_for(source)
        header = read_header(storage, source, KEY)
        recognised = recognised_format(header, KEY)
        print("run  " + "  ".join(f"{step:>8}" for step in STEPS) + "   total s")
        for run in range(args.runs):
            marks = [time.perf_counter()]
            survey = survey_lines(spark, source)
            marks.append(time.perf_counter())
            counting = job.Counting(f"plan_cost_{run}")
            classified = job.classified_rows(spark, source, header, recognised, counting, survey)
            table = rows.sorted_for_parquet(
                rows.table_rows(
                    classified,
                    KEY,
                    "bench-city",
                    dt.datetime.now(dt.UTC),
                    recognised.format.name,
                    with_source_row=True,
                )
            )
            marks.append(time.perf_counter())
            execution = table._jdf.queryExecution()  # the JVM's plan, as `explain` sees it
            for phase in (execution.analyzed, execution.optimizedPlan, execution.executedPlan):
                phase()
                marks.append(time.perf_counter())
            out = str(work / f"out-{run}")
            table.write.partitionBy(*PARTITION_NAMES).parquet(out)
            counting.counts()
            marks.append(time.perf_counter())
            job._staged_table(spark, storage_for(out), out)  # the job's count from the footers
            marks.append(time.perf_counter())
            steps = [b - a for a, b in itertools.pairwise(marks)]
            cells = "  ".join(f"{s:8.2f}" for s in steps)
            print(f"{run:3d}  {cells}  {marks[-1] - marks[0]:8.2f}", flush=True)
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
