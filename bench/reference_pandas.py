"""The reference solution's approach, re-implemented faithfully for the benchmark.

What it does, as the reference did: pandas reads the WHOLE CSV into memory; then it loops over
every distinct `Date Range` value, parses that value with string splits, and assigns the parsed
dates to the rows that match it (a full-column comparison per distinct value: rows x ranges);
then pandas/pyarrow writes partitioned Parquet with `partition_cols` in city/month/day/year order.

What it gets wrong, kept ON PURPOSE so that the comparison is honest (this is the approach a
user would otherwise run, not a straw man we could fix):
- memory grows with the file: the whole export (and every intermediate column) sits in RAM;
- time grows with rows x distinct ranges: an export with one range per day (365 values) pays
  365 full scans of the column plus 365 masked assignments per output column;
- the partition order city/month/day/year breaks the table's Hive layout
  (`city=/year=/month=/day=`) and pruning by year;
- no row validation and no rejects area: a bad `Date Range` raises and aborts the whole file
  (or, for unparseable numbers, silently becomes NaN);
- not idempotent: pyarrow names each file with a fresh UUID, so re-running the same file adds a
  second copy of every row instead of replacing the first.

The one liberty taken: output columns are named and typed like the contract's table, so that
the output bytes of the implementations compare like for like.

Run as `python -m bench.reference_pandas --source CSV --out DIR --city C --source-key K`; the
last stdout line is a JSON result."""

from __future__ import annotations

import datetime as dt
import json
import os

import pandas as pd

from bench.peer_cli import peer_arguments
from contract import columns as c
from contract.formats import MOVEMENT_COLUMNS

_TABLE_NAMES = {
    c.ORIGIN_ID: "origin_movement_id",
    c.ORIGIN_NAME: "origin_display_name",
    c.DESTINATION_ID: "destination_movement_id",
    c.DESTINATION_NAME: "destination_display_name",
    c.DATE_RANGE: "date_range",
    c.MEAN_TRAVEL_TIME: "mean_travel_time_s",
    c.LOWER_TRAVEL_TIME: "lower_bound_travel_time_s",
    c.UPPER_TRAVEL_TIME: "upper_bound_travel_time_s",
}
# The export's header names (the Travel Times format's declaration) to the table's names.
RENAMES = {MOVEMENT_COLUMNS[field]: name for field, name in _TABLE_NAMES.items()}
# The reference's order (month before day before year), not the table's.
REFERENCE_PARTITION_COLS = ["city", "month", "day", "year"]


def parse_range(value: str) -> tuple[pd.Timestamp, pd.Timestamp, str | None, str | None]:
    """The reference's parser: `M/D/YYYY - M/D/YYYY[, days, time of day]` by string splits."""
    parts = [part.strip() for part in value.split(",")]
    start, end = (d.strip() for d in parts[0].split(" - "))
    day_type = parts[1] if len(parts) > 1 else None
    time_of_day = ", ".join(parts[2:]) if len(parts) > 2 else None
    return (
        pd.to_datetime(start, format="%m/%d/%Y"),
        pd.to_datetime(end, format="%m/%d/%Y"),
        day_type,
        time_of_day,
    )


def transform(source: str, city: str, source_key: str) -> pd.DataFrame:
    """Read the whole export, then the per-range loop; returns the frame to write."""
    df = pd.read_csv(source, usecols=list(RENAMES))  # the whole file, at once
    df = df.rename(columns=RENAMES)
    df["start_date"] = pd.NaT
    df["end_date"] = pd.NaT
    df["day_type"] = None
    df["time_of_day"] = None
    # The reference's loop: one full-column comparison and masked assignments per distinct range.
    for value in df["date_range"].unique():
        start, end, day_type, time_of_day = parse_range(value)
        mask = df["date_range"] == value
        df.loc[mask, "start_date"] = start
        df.loc[mask, "end_date"] = end
        df.loc[mask, "day_type"] = day_type
        df.loc[mask, "time_of_day"] = time_of_day
    df["start_date"] = pd.to_datetime(df["start_date"]).dt.date
    df["end_date"] = pd.to_datetime(df["end_date"]).dt.date
    df["year"] = pd.to_datetime(df["start_date"]).dt.year
    df["month"] = pd.to_datetime(df["start_date"]).dt.month
    df["day"] = pd.to_datetime(df["start_date"]).dt.day
    df["source_key"] = source_key
    df["ingested_at"] = pd.Timestamp(dt.datetime.now(dt.UTC))
    df["city"] = city
    return df


def main(argv: list[str] | None = None) -> int:
    args = peer_arguments(__doc__.splitlines()[0], argv)
    df = transform(args.source, args.city, args.source_key)
    df.to_parquet(
        args.out, engine="pyarrow", compression="snappy", partition_cols=REFERENCE_PARTITION_COLS
    )
    print(json.dumps({"rows_written": len(df)}), flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Leave without interpreter teardown: with pandas 3.1 / pyarrow 26 about one exit in five
    # aborts in a C++ thread pool's destructor ("terminate called without an active
    # exception") AFTER the files and the result line are written. The work is done by then;
    # the abort would only turn a finished run into a failed one.
    os._exit(code)
