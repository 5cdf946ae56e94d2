"""DuckDB as the single-machine "physical limit": one COPY from the CSV to partitioned Parquet.

Same columns, same parsing as the Glue job: the contract's Date Range pattern (RE2 reads it as
Java does), integer and double casts, partitions city/year/month/day from the start date,
Snappy. What it does NOT do that our job does: set rows aside with a reason, fail a file past
the reject threshold, replace an older version of the same source key, write a manifest. Rows
that do not parse are simply left out (the benchmark inputs have none).

Run as `python -m bench.duckdb_copy --source CSV --out DIR --city C --source-key K`; the last
stdout line is a JSON result."""

from __future__ import annotations

import json
import sys

import duckdb

from bench.inputs import header_names
from bench.peer_cli import peer_arguments
from contract import columns as c
from contract.formats import MOVEMENT_COLUMNS
from contract.values import DATE_RANGE_PATTERN

GROUPS = ["sm", "sd", "sy", "em", "ed", "ey", "day_type", "time_of_day"]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    """A DuckDB string literal: standard SQL, so backslashes stay as they are (the regex needs
    them) and a quote is doubled."""
    return "'" + value.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_literal(v) for v in values) + "]"


def copy_sql(source: str, out: str, city: str, source_key: str) -> str:
    """The COPY statement: read_csv as all-VARCHAR (casts are ours), parse, partition, write."""
    names = header_names(source)
    col = {field: _ident(name) for field, name in MOVEMENT_COLUMNS.items()}  # by logical field
    date = "try_strptime(dr.{y} || '-' || dr.{m} || '-' || dr.{d}, '%Y-%m-%d')::DATE"
    return f"""
COPY (
  WITH src AS (
    SELECT * FROM read_csv({_literal(source)}, header = true, names = {_list(names)},
                           all_varchar = true, delim = ',', quote = '"', escape = '"')
  ), parsed AS (
    SELECT *, regexp_extract({col[c.DATE_RANGE]}, {_literal(DATE_RANGE_PATTERN)},
                             {_list(GROUPS)}) AS dr
    FROM src
  ), typed AS (
    SELECT
      TRY_CAST(trim({col[c.ORIGIN_ID]}) AS BIGINT) AS origin_movement_id,
      {col[c.ORIGIN_NAME]} AS origin_display_name,
      TRY_CAST(trim({col[c.DESTINATION_ID]}) AS BIGINT) AS destination_movement_id,
      {col[c.DESTINATION_NAME]} AS destination_display_name,
      {col[c.DATE_RANGE]} AS date_range,
      {date.format(y="sy", m="sm", d="sd")} AS start_date,
      {date.format(y="ey", m="em", d="ed")} AS end_date,
      NULLIF(dr.day_type, '') AS day_type,
      NULLIF(dr.time_of_day, '') AS time_of_day,
      TRY_CAST(trim({col[c.MEAN_TRAVEL_TIME]}) AS DOUBLE) AS mean_travel_time_s,
      TRY_CAST(NULLIF(trim({col[c.LOWER_TRAVEL_TIME]}), '') AS DOUBLE)
        AS lower_bound_travel_time_s,
      TRY_CAST(NULLIF(trim({col[c.UPPER_TRAVEL_TIME]}), '') AS DOUBLE)
        AS upper_bound_travel_time_s,
      {_literal(source_key)} AS source_key,
      CAST(now() AS TIMESTAMP) AS ingested_at
    FROM parsed
  )
  SELECT *, {_literal(city)} AS city, year(start_date) AS year,
         month(start_date) AS month, day(start_date) AS day
  FROM typed
  WHERE start_date IS NOT NULL
) TO {_literal(out)} (FORMAT PARQUET, PARTITION_BY (city, year, month, day),
                         COMPRESSION SNAPPY)
"""


def main(argv: list[str] | None = None) -> int:
    args = peer_arguments(__doc__.splitlines()[0], argv)
    con = duckdb.connect()
    result = con.execute(copy_sql(args.source, args.out, args.city, args.source_key)).fetchone()
    print(json.dumps({"rows_written": int(result[0]) if result else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
