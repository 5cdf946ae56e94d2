"""Where a warm run's fixed cost goes: building the job's DataFrame (py4j calls), Catalyst's
analysis and optimization, physical planning, then the write (which plans again and runs).

    python -m bench.plan_cost --rows 10000 --runs 4

On a small file the write is mostly planning: this is the floor of a warm run whatever the size.
The first run also loads classes and compiles; read the later ones."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from pyspark.sql import Observation

from bench.inputs import InputSpec, ensure_input
from bench.suite import OUT
from glue import job, transform
from glue.object_store import storage_for
from glue.read import export_schema, read_header
from lake.aws.spark import local_spark_session

KEY = "travel_times/bench-city/plan-cost.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    source = str(ensure_input(InputSpec(args.rows), OUT / "inputs"))
    work = Path(tempfile.mkdtemp(prefix="plan-cost-"))
    try:
        spark = local_spark_session(work / "home")
        schema = export_schema(read_header(storage_for(source), source, KEY), KEY)
        print("run  build s  analyze s  optimize s  physical s  write s")
        for run in range(args.runs):
            t0 = time.perf_counter()
            observed = job.classified_rows(spark, source, schema, Observation(f"plan_cost_{run}"))
            table = transform.sorted_for_parquet(
                transform.table_rows(observed, KEY, "bench-city", dt.datetime.now(dt.UTC))
            )
            t1 = time.perf_counter()
            execution = table._jdf.queryExecution()  # the JVM's plan, as `explain` sees it
            execution.analyzed()
            t2 = time.perf_counter()
            execution.optimizedPlan()
            t3 = time.perf_counter()
            execution.executedPlan()
            t4 = time.perf_counter()
            table.write.mode("overwrite").parquet(str(work / "out"))
            t5 = time.perf_counter()
            print(
                f"{run:3d}  {t1 - t0:7.2f}  {t2 - t1:9.2f}  {t3 - t2:10.2f}  {t4 - t3:10.2f}"
                f"  {t5 - t4:7.2f}",
                flush=True,
            )
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
