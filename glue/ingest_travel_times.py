"""AWS Glue 5.1 job script: ingest one Uber Movement travel-times export into the Parquet lake.

The same file runs on AWS Glue (awsglue is importable there: arguments come from
getResolvedOptions, the session from GlueContext) and on plain PySpark (`python
glue/ingest_travel_times.py --source_path ... --source_key ... --curated_path ...
--manifest_path ...`, or `runpy.run_path` by the local runtime on its warm session).
The work itself is `glue.job.run`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if (_HERE / "__init__.py").exists() and sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    # Run as a file from the source tree: import this folder as the `glue` package (from the
    # repository root), never its modules as top-level names that could shadow others.
    sys.path[0] = str(_HERE.parent)

from glue.arguments import parse_command_line, parse_glue_arguments  # noqa: E402
from glue.job import run  # noqa: E402
from glue.logs import configure_logging  # noqa: E402


def _local_session():
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    try:
        return SparkSession.active()  # the local runtime's warm session
    except PySparkRuntimeError:
        return (
            SparkSession.builder.appName("movement-lake-ingest")
            .master("local[*]")
            # The local runtime's limits (lake/aws/spark.py): memory bounded whatever the size.
            .config("spark.driver.memory", "1g")
            .config("spark.sql.files.maxPartitionBytes", "64m")
            .config("spark.sql.shuffle.partitions", str(8 * (os.cpu_count() or 2)))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )


def main(argv: list[str]) -> None:
    configure_logging()
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
    except ImportError:
        run(_local_session(), parse_command_line(argv[1:]))
        return
    from pyspark.context import SparkContext

    job_name, args = parse_glue_arguments(argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(job_name, {"JOB_NAME": job_name})
    run(glue_context.spark_session, args)
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
