"""Catalog cost: registering one file's partitions while the table already holds 10, 100 and
1,000 partitions, on the local Hive catalog (the local runtime's Athena engine: Spark SQL with a
Derby metastore, running Athena's DDL text verbatim).

The statement timed is the one the workflow runs, `contract.table.register_partitions_sql`
(ALTER TABLE ... ADD IF NOT EXISTS PARTITION ...) for the partitions of one file. After each
timed registration those partitions are dropped again (untimed), so the table holds exactly the
stated number before every measurement. The same statement repeated with the partitions already
present (a duplicate event delivery) is timed too.

Run in its own process: `python -m bench.catalog --home DIR`; the last stdout line is JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

from contract.columns import DEFAULT_DATABASE, TABLE_NAME
from contract.table import create_table_sql, quote_identifier, register_partitions_sql

EXISTING_CITY = "catalog-existing"
NEW_CITY = "catalog-new"
BATCH = 100  # partitions per untimed filler statement


def _days(start: dt.date, count: int) -> list[dict]:
    return [
        {"city": EXISTING_CITY, "year": d.year, "month": d.month, "day": d.day}
        for d in (start + dt.timedelta(days=i) for i in range(count))
    ]


def _file_partitions(count: int, offset: int) -> list[dict]:
    """The partitions of one new file: `count` consecutive days in a city of their own."""
    start = dt.date(2019, 1, 1) + dt.timedelta(days=offset)
    return [
        {"city": NEW_CITY, "year": d.year, "month": d.month, "day": d.day}
        for d in (start + dt.timedelta(days=i) for i in range(count))
    ]


def _drop_sql(table: str, partitions: list[dict]) -> str:
    specs = ", ".join(
        f"PARTITION (city='{p['city']}', year={p['year']}, month={p['month']}, day={p['day']})"
        for p in partitions
    )
    return f"ALTER TABLE {table} DROP IF EXISTS {specs}"


def measure(home: Path, levels: list[int], repeats: int, per_file: int) -> dict:
    """Median registration time at each level of existing partitions."""
    from lake.aws.spark import local_spark_session

    spark = local_spark_session(home, app_name="movement-lake-bench-catalog")
    db, table = DEFAULT_DATABASE, TABLE_NAME
    qualified = f"{quote_identifier(db)}.{quote_identifier(table)}"
    location = (home / "lake" / "travel_times").resolve().as_uri()
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(db)}")
    spark.sql(f"DROP TABLE IF EXISTS {qualified}")
    spark.sql(create_table_sql(db, table, location))

    # Warm the metastore connection and the code paths once, untimed.
    warmup = _file_partitions(per_file, offset=0)
    spark.sql(register_partitions_sql(db, table, warmup))
    spark.sql(_drop_sql(qualified, warmup))

    results = []
    existing = 0
    for level in sorted(levels):
        filler = _days(dt.date(2010, 1, 1), level)[existing:]
        for i in range(0, len(filler), BATCH):
            spark.sql(register_partitions_sql(db, table, filler[i : i + BATCH]))
        existing = level
        held = spark.sql(f"SHOW PARTITIONS {qualified}").count()
        new_times, again_times = [], []
        for r in range(repeats):
            parts = _file_partitions(per_file, offset=r * per_file)
            statement = register_partitions_sql(db, table, parts)
            start = time.perf_counter()
            spark.sql(statement)
            new_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            spark.sql(statement)  # a duplicate delivery: every partition already exists
            again_times.append(time.perf_counter() - start)
            spark.sql(_drop_sql(qualified, parts))
        results.append(
            {
                "existing": held,
                "median_s": statistics.median(new_times),
                "runs_s": new_times,
                "again_median_s": statistics.median(again_times),
            }
        )
    # A one-range-per-day export touches 365 partitions: its statement, once, for scale.
    daily = _file_partitions(365, offset=0)
    start = time.perf_counter()
    spark.sql(register_partitions_sql(db, table, daily))
    daily_s = time.perf_counter() - start
    spark.sql(_drop_sql(qualified, daily))
    spark.stop()
    return {
        "partitions_per_file": per_file,
        "repeats": repeats,
        "levels": results,
        "daily_file": {"partitions": len(daily), "existing": existing, "seconds": daily_s},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--levels", default="10,100,1000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--per-file",
        type=int,
        default=5,
        help="partitions one file touches (a monthly export: a handful)",
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    print(json.dumps(measure(Path(args.home), levels, args.repeats, args.per_file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
