"""Query side: one question ("how many trips and what mean travel time, for one city on one
day?") asked of the lake with partition pruning, and of the raw CSV. DuckDB answers both, so the
difference is the data layout, not the engine.

Bytes read are this process's read() bytes during the query (Linux /proc/self/io `rchar`):
what the engine pulled through the file system, page cache or not. Each query runs on a fresh
connection (no DuckDB cache carries over); the OS page cache is warm for both sides.

Run in its own process: `python -m bench.query --lake DIR --csv FILE --city C`; the last
stdout line is JSON."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import duckdb

from bench.duckdb_copy import _ident, _literal
from bench.inputs import header_names
from contract import columns as c
from contract.formats import MOVEMENT_COLUMNS
from contract.values import DATE_RANGE_PATTERN


def read_bytes_so_far() -> int:
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def pick_partition(lake: Path, city: str) -> dict:
    """The first partition of `city` in the lake (sorted), as year/month/day integers."""
    folders = sorted(lake.glob(f"city={city}/year=*/month=*/day=*"))
    if not folders:
        raise FileNotFoundError(f"no partition of city {city!r} under {lake}")
    values = dict(re.findall(r"(year|month|day)=(\d+)", str(folders[0].relative_to(lake))))
    return {k: int(v) for k, v in values.items()}


def lake_sql(lake: Path, city: str, day: dict) -> str:
    return (
        "SELECT count(*), avg(mean_travel_time_s) FROM read_parquet("
        f"{_literal(str(lake / '**' / '*.parquet'))}, hive_partitioning = true) "
        f"WHERE city = {_literal(city)} AND year = {day['year']} AND month = {day['month']} "
        f"AND day = {day['day']}"
    )


def csv_sql(csv: Path, day: dict) -> str:
    """The same question of the raw export: parse each row's start date and compare."""
    names = header_names(str(csv))
    rng = _ident(MOVEMENT_COLUMNS[c.DATE_RANGE])  # the export's header name

    # A function, not str.format: the pattern itself holds braces ({1,2}).
    def start(group: int) -> str:
        return f"regexp_extract({rng}, {_literal(DATE_RANGE_PATTERN)}, {group})"

    cols = "[" + ", ".join(_literal(n) for n in names) + "]"
    mean = _ident(MOVEMENT_COLUMNS[c.MEAN_TRAVEL_TIME])
    return (
        f"SELECT count(*), avg(TRY_CAST({mean} AS DOUBLE)) FROM read_csv("
        f"{_literal(str(csv))}, header = true, names = {cols}, all_varchar = true, "
        "delim = ',', quote = '\"', escape = '\"') "
        f"WHERE TRY_CAST({start(3)} AS INT) = {day['year']} "
        f"AND TRY_CAST({start(1)} AS INT) = {day['month']} "
        f"AND TRY_CAST({start(2)} AS INT) = {day['day']}"
    )


def timed(sql: str, repeats: int) -> dict:
    walls, reads, answer = [], [], None
    for _ in range(repeats):
        con = duckdb.connect()
        before = read_bytes_so_far()
        start = time.perf_counter()
        answer = con.execute(sql).fetchone()
        walls.append(time.perf_counter() - start)
        reads.append(read_bytes_so_far() - before)
        con.close()
    return {
        "median_s": statistics.median(walls),
        "bytes_read": int(statistics.median(reads)),
        "rows": int(answer[0]) if answer else None,
        "mean": float(answer[1]) if answer and answer[1] is not None else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="the table's root (city=... folders)")
    parser.add_argument("--csv", required=True)
    parser.add_argument("--city", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    lake, csv = Path(args.lake), Path(args.csv)
    day = pick_partition(lake, args.city)
    lake_result = timed(lake_sql(lake, args.city, day), args.repeats)
    csv_result = timed(csv_sql(csv, day), args.repeats)
    same = lake_result["rows"] == csv_result["rows"] and (
        lake_result["mean"] is None
        or abs(lake_result["mean"] - (csv_result["mean"] or 0)) < 1e-6 * abs(lake_result["mean"])
    )
    lake_bytes = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    print(
        json.dumps(
            {
                "engine": f"DuckDB {duckdb.__version__}",
                "question": f"city={args.city}, {day['year']}-{day['month']:02d}-{day['day']:02d}",
                "lake": {**lake_result, "total_bytes": lake_bytes},
                "csv": {**csv_result, "total_bytes": csv.stat().st_size},
                "same_answer": same,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
