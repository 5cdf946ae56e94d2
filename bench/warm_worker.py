"""A long-lived process that keeps one SparkSession warm and runs the Glue job on request, as
`lake watch` does. Driven by bench.ours.WarmWorker over stdin/stdout, one JSON object per line,
so that the bench can time each call and sample this process tree's RSS on its own.

Requests:  {"job": {<JobArguments fields>}, "conf": {<runtime Spark SQL settings>}}, or
           {"copy": {"source", "out", "city", "source_key"}} (bench.spark_copy, Spark's floor)
Replies:   {"ok": true, "seconds": s, "manifest": {...}} ({"rows_written": n} for a copy), or
           {"ok": false, "error": "..."}
The first line written is {"ready": true, "startup_s": s} once the session is up."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path


def _private_stdout():
    """Keep the protocol channel clean: replies go to the original stdout, while anything the
    job, Spark or py4j prints goes to stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="lake home of this worker's session")
    parser.add_argument(
        "--driver-memory", default=None, help="spark.driver.memory (default: the runtime's)"
    )
    parser.add_argument("--shuffle-partitions", type=int, default=None)
    parser.add_argument("--cores", type=int, default=None, help="local[N] (default: all)")
    args = parser.parse_args(argv)
    channel = _private_stdout()

    start = time.perf_counter()
    # Imported here: the imports are part of the startup.
    from bench import spark_copy
    from glue import job as glue_job
    from lake.aws.spark import DRIVER_MEMORY, local_spark_session

    spark = local_spark_session(
        Path(args.home),
        app_name="movement-lake-bench-warm",
        shuffle_partitions=args.shuffle_partitions,
        driver_memory=args.driver_memory or DRIVER_MEMORY,
        cores=args.cores,
    )
    spark.range(1).count()  # the first action starts the executors' thread pool
    channel.write(json.dumps({"ready": True, "startup_s": time.perf_counter() - start}) + "\n")

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        conf = request.get("conf") or {}
        previous = {key: spark.conf.get(key, None) for key in conf}
        try:
            for key, value in conf.items():
                spark.conf.set(key, str(value))
            began = time.perf_counter()
            if "copy" in request:
                result = {"rows_written": spark_copy.copy(spark, **request["copy"])}
            else:
                result = {"manifest": glue_job.run(spark, glue_job.JobArguments(**request["job"]))}
            reply = {"ok": True, "seconds": time.perf_counter() - began, **result}
        except Exception as e:  # report, keep serving: one failed call must not end the bench
            reply = {
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc()[-3000:],
            }
        finally:
            for key, value in previous.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)
        channel.write(json.dumps(reply, default=str) + "\n")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
