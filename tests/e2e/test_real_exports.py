"""Real exports, end to end: every accepted format through `lake upload`, the table read back with
DuckDB holding exactly the rows the contract says (distinct data rows with a measured mean; for
the daily export one per non-empty period mean), with the same sum of mean travel times, in the
partitions their dates say.

The acceptance data are the public exports in ../shared/real/ (read when the folder exists, never
copied into the project); the repository's own hand-written fixtures of every format run always."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from e2e_support import lake, query
from export_rows import FIXTURES, REAL, expected

from contract import formats

pytestmark = pytest.mark.e2e

# The city folder of each acceptance file (its name does not always say: see REAL's README).
REAL_CITIES = {
    "bengaluru.csv": "bengaluru",
    "bengaluru_day_of_week.csv": "bengaluru",
    "bengaluru_time_of_day.csv": "bengaluru",
    "boston_wfallon.csv": "boston",
    "loka_boston_head.csv": "boston",
    "loka_paris.csv": "paris",
    "nairobi_daily.csv": "nairobi",
}
FIXTURE_CITIES = {
    "movement_quoted.csv": "bengaluru",
    "movement_unquoted_distance.csv": "boston",
    "data_world_geometry.csv": "johannesburg_and_pretoria",
    "daily.csv": "nairobi",
    "day_of_week.csv": "bengaluru",
    "time_of_day.csv": "bengaluru",
}


def _table(home) -> duckdb.DuckDBPyRelation:
    folder = home.bucket_path(home.settings.curated_bucket) / "travel_times"
    return duckdb.sql(
        f"SELECT * FROM read_parquet('{folder}/**/*.parquet', hive_partitioning=true, "
        "union_by_name=true)"
    )


def _ingest_and_check(lake_home, capsys, files: dict[Path, str]) -> None:
    for path, city in files.items():
        status, out, err = lake(capsys, "upload", str(path), "--city", city)
        assert status == 0, f"{path.name}: {out}{err}"
        want = expected(path)  # and the summary says what was not written, and why
        if want.duplicate_rows:
            assert (
                f"exact duplicates (written once)  {want.duplicate_rows}"
                in " ".join(out.split("│"))
                or f"{want.duplicate_rows}" in out
            ), out
        assert ("without a measurement" in out) == bool(want.verdicts["no_measurement"]), out
    table = _table(lake_home)
    for path, city in files.items():
        want = expected(path)
        key = f"travel_times/{city}/{path.name}"
        got = table.filter(f"source_key = '{key}'")
        [(rows, total, formats_seen)] = got.aggregate(
            "count(*), sum(mean_travel_time_s), list(DISTINCT source_format)"
        ).fetchall()
        assert (rows, formats_seen) == (want.written, [want.format]), path.name
        assert total == pytest.approx(want.mean_sum), path.name
        # in the partitions their (start) dates say
        wrong = got.filter(
            "year != year(start_date) OR month != month(start_date) OR day != day(start_date) "
            f"OR city != '{city}'"
        )
        assert wrong.aggregate("count(*)").fetchall() == [(0,)], path.name


def test_the_repositorys_fixtures_of_every_format_land_exactly(lake_home, capsys):
    _ingest_and_check(lake_home, capsys, {FIXTURES / n: c for n, c in FIXTURE_CITIES.items()})
    # the morning peak of every format that has one, however the file spelled it
    rows = query(
        capsys,
        "SELECT source_format, count(*) AS n FROM travel_times WHERE time_of_day = 'AM Peak' "
        "GROUP BY source_format ORDER BY source_format",
    )
    assert {r["source_format"]: r["n"] for r in rows} == {
        formats.DAILY.name: 2,
        formats.TIME_OF_DAY.name: 1,
        formats.TRAVEL_TIMES.name: 1,
    }
    # a Day Of Week export's day is the table's day_type; a missing distance is null
    days = query(
        capsys,
        "SELECT DISTINCT day_type FROM travel_times WHERE source_format = "
        f"'{formats.DAY_OF_WEEK.name}' ORDER BY day_type",
    )
    assert [r["day_type"] for r in days] == ["Monday", "Saturday", "Sunday", "Tuesday", "Wednesday"]
    [distance] = query(
        capsys,
        "SELECT count(travel_distance_m) AS given, count(*) AS rows FROM travel_times "
        "WHERE city = 'boston'",
    )
    assert distance == {"given": 3, "rows": 4}


@pytest.mark.skipif(not REAL.is_dir(), reason=f"no acceptance data at {REAL} (CI has it)")
def test_every_real_export_lands_exactly(lake_home, capsys):
    files = {REAL / name: city for name, city in REAL_CITIES.items() if (REAL / name).exists()}
    assert files, f"{REAL} holds none of the expected exports"
    _ingest_and_check(lake_home, capsys, files)
    # a daily export's AM peak rows, asked for by time_of_day
    [am] = query(
        capsys,
        "SELECT count(*) AS n FROM travel_times WHERE time_of_day = 'AM Peak' "
        "AND source_key = 'travel_times/nairobi/nairobi_daily.csv'",
    )
    assert am["n"] > 0
