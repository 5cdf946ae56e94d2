"""The Glue job on local PySpark: the table it writes, the rows it sets aside, its manifest, and
the invariant across re-runs, re-uploads and interrupted runs. Small generated files; the one
session-wide SparkSession."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from job_support import Lake

import glue.job
from contract import columns as c
from contract.errors import CityMismatch, MissingColumns, TooManyRejects
from contract.formats import TRAVEL_TIMES

pytestmark = pytest.mark.spark


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path)


KEY = "travel_times/bogota/2019.csv"


def test_the_table_holds_the_contract_columns_types_and_partitions(spark, lake):
    # GIVEN an export as gzip with a BOM and CRLF line ends
    path, _ = lake.export(KEY + ".gz", rows=400, seed=1, bom=True, crlf=True, geometry=True)
    # WHEN the job runs
    manifest = lake.run(spark, KEY + ".gz", path)
    # THEN every row is in the table with the contract's types
    table = lake.table()
    assert table.num_rows == 400 == manifest["rows"]["written"]
    types = {f.name: str(f.type) for f in table.schema}
    assert types["origin_movement_id"] == "int64"
    assert types["start_date"] == "date32[day]"
    assert types["ingested_at"].startswith("timestamp")
    assert types["mean_travel_time_s"] == types["upper_bound_travel_time_s"] == "double"
    assert [col.name for col in c.DATA_COLUMNS] == [
        f.name for f in table.schema if f.name not in ("city", "year", "month", "day")
    ]
    # partitioned by the START date, unpadded, one file per partition for this source
    for row in table.to_pylist():
        start = row["start_date"]
        assert (row["city"], row["year"], row["month"], row["day"]) == (
            "bogota",
            start.year,
            start.month,
            start.day,
        )
        assert row["end_date"] >= start
        assert row["source_key"] == KEY + ".gz"
    folders = sorted(p.parent for p in (lake.curated / "travel_times").rglob("*.parquet"))
    assert len(folders) == len(set(folders)) == len(manifest["partitions_written"])
    assert all("month=0" not in str(f) and "day=0" not in str(f) for f in folders)
    assert all(p.name.endswith(".snappy.parquet") for p in lake.curated.rglob("*.parquet"))


def test_quoted_commas_quotes_newlines_and_accents_survive(spark, lake):
    header = TRAVEL_TIMES.example_header
    path = lake.root / "raw" / "travel_times" / "lima" / "quoted.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        header
        + '\n1,"Jirón ""Unión"", Lima\nCentro",2,Miraflores,"6/1/2019 - 6/30/2019, Weekdays, '
        'AM Peak (7AM - 10AM)",100.5,90,\n',
        encoding="utf-8",
    )
    manifest = lake.run(spark, "travel_times/lima/quoted.csv", path)
    (row,) = lake.table().to_pylist()
    assert row["origin_display_name"] == 'Jirón "Unión", Lima\nCentro'
    assert (row["day_type"], row["time_of_day"]) == ("Weekdays", "AM Peak")  # canonical
    assert row["date_range"].endswith("AM Peak (7AM - 10AM)")  # as written
    assert (row["mean_travel_time_s"], row["upper_bound_travel_time_s"]) == (100.5, None)
    assert manifest["rows"] == {
        "read": 1,
        "duplicate_rows": 0,
        "no_measurement": 0,
        "written": 1,
        "rejected": 0,
        "rejected_by_reason": dict.fromkeys(c.REJECT_REASONS, 0),
    }


def test_bad_rows_are_set_aside_with_the_reason_the_contract_gives(spark, lake):
    path, stats = lake.export(KEY, rows=600, seed=5, bad_share=0.25)
    manifest = lake.run(spark, KEY, path, reject_threshold=0.5)
    assert manifest["rows"]["rejected_by_reason"] == {
        reason: stats.bad_rows.get(reason, 0) for reason in c.REJECT_REASONS
    }
    assert manifest["rows"]["written"] == 600 - stats.bad == lake.table().num_rows
    rejects_file = Path(manifest["rejects_path"])
    assert rejects_file.is_relative_to(lake.curated / "rejects" / "travel_times" / "bogota")
    with rejects_file.open(encoding="utf-8", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert Counter(r["reject_reason"] for r in rejects) == Counter(stats.bad_rows)
    # original values are kept
    assert all(c.DATE_RANGE in r for r in rejects)


def test_more_bad_rows_than_the_threshold_fail_with_counts_by_reason(spark, lake):
    good, _ = lake.export("travel_times/bogota/good.csv", rows=200, seed=9)
    lake.run(spark, "travel_times/bogota/good.csv", good)
    before = lake.table().num_rows
    path, stats = lake.export(KEY, rows=1000, seed=6, bad_share=0.05)
    with pytest.raises(TooManyRejects) as error:
        lake.run(spark, KEY, path)
    message = str(error.value)
    assert "50 of 1,000 rows" in message
    for reason, n in stats.bad_rows.items():
        assert f"{reason} {n}" in message
    assert KEY in message
    assert lake.table().num_rows == before  # nothing of this file became visible


def test_half_a_percent_of_bad_rows_succeeds_and_sets_them_aside(spark, lake):
    path, stats = lake.export(KEY, rows=1000, seed=7, bad_share=0.005)
    manifest = lake.run(spark, KEY, path)
    assert manifest["rows"]["rejected"] == 5 == stats.bad
    assert manifest["rows"]["written"] == 995 == lake.table().num_rows


def test_a_missing_column_fails_before_any_spark_work(spark, lake):
    path = lake.root / "raw" / KEY
    path.parent.mkdir(parents=True)
    header = ",".join(TRAVEL_TIMES.required_headers[:-1])
    path.write_text(header + "\n1,a,2,b,6/1/2019 - 6/1/2019,5,4\n")
    with pytest.raises(MissingColumns, match="Range - Upper Bound Travel Time"):
        lake.run(spark, KEY, path)
    assert not (lake.curated / "travel_times").exists()


def test_the_manifest_lists_partitions_and_the_statements_that_register_them(spark, lake):
    path, _ = lake.export(KEY, rows=300, seed=11, date_ranges=3)
    manifest = lake.run(spark, KEY, path)
    summary = manifest.pop("summary")
    written = manifest["partitions_written"]
    assert sum(p["rows"] for p in written) == 300
    assert all(p["files"] == 1 for p in written)
    # the full manifest in the curated bucket; the summary the workflow carries, beside it
    folder = lake.curated / "manifests" / "run-1"
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    assert json.loads((folder / "summary.json").read_text()) == summary
    assert summary["manifest"] == "manifests/run-1/manifest.json"
    assert summary["rows"] == manifest["rows"] and summary["partitions_written"] == len(written)
    statements = [(lake.curated / key).read_text() for key in summary["register_statements"]]
    assert statements and all(
        s.startswith("ALTER TABLE `uber_movement`.`travel_times` ADD IF NOT EXISTS")
        for s in statements
    )
    for p in written:
        spec = (
            f"PARTITION (city='{p['city']}', year={p['year']}, month={p['month']}, day={p['day']})"
        )
        assert sum(spec in s for s in statements) == 1


def test_the_same_file_twice_leaves_its_rows_once_and_other_keys_untouched(spark, lake):
    other, _ = lake.export("travel_times/lima/other.csv", rows=150, seed=12)
    lake.run(spark, "travel_times/lima/other.csv", other)
    other_rows = lake.rows_of("travel_times/lima/other.csv")
    path, _ = lake.export(KEY, rows=250, seed=13)
    lake.run(spark, KEY, path)
    once = lake.rows_of(KEY)
    lake.run(spark, KEY, path)  # a duplicate event, a re-run
    assert lake.rows_of(KEY) == once
    assert len(once) == 250
    assert lake.rows_of("travel_times/lima/other.csv") == other_rows


def test_a_reupload_whose_dates_moved_leaves_only_the_new_version(spark, lake):
    path, _ = lake.export(KEY, rows=200, seed=14, date_ranges="daily")
    first = lake.run(spark, KEY, path)
    old_partitions = {
        tuple(p[k] for k in ("city", "year", "month", "day")) for p in first["partitions_written"]
    }
    path, _ = lake.export(KEY, rows=120, seed=15, date_ranges=2)  # same key, other dates
    second = lake.run(spark, KEY, path)
    new_partitions = {
        tuple(p[k] for k in ("city", "year", "month", "day")) for p in second["partitions_written"]
    }
    assert old_partitions - new_partitions  # the dates really moved
    assert len(lake.rows_of(KEY)) == 120
    emptied = {
        tuple(p[k] for k in ("city", "year", "month", "day")) for p in second["partitions_emptied"]
    }
    assert emptied == old_partitions - new_partitions
    table = lake.table().to_pylist()
    assert {(r["city"], r["year"], r["month"], r["day"]) for r in table} == new_partitions


@pytest.mark.parametrize("kill_at", ["before_publish", "mid_move", "after_commit"])
def test_an_interrupted_run_then_a_rerun_leaves_the_latest_version_once(
    spark, lake, monkeypatch, kill_at
):
    # GIVEN version 1 of the key is in the lake
    path, _ = lake.export(KEY, rows=200, seed=16, date_ranges="daily")
    lake.run(spark, KEY, path)
    v1 = lake.rows_of(KEY)
    path, _ = lake.export(KEY, rows=180, seed=17, date_ranges=4)

    # WHEN a run of version 2 is killed part-way
    class Killed(BaseException):
        pass

    from glue import publish as publish_module
    from glue.object_store import LocalStorage

    if kill_at == "before_publish":  # between writing (staging) and committing

        def killed_publish(*args, **kwargs):
            raise Killed

        monkeypatch.setattr(glue.job, "publish", killed_publish)
    elif kill_at == "mid_move":
        real_move, moves = LocalStorage.move, []

        def move_then_die(self, source, target):
            if moves:
                raise Killed
            moves.append(target)
            real_move(self, source, target)

        monkeypatch.setattr(LocalStorage, "move", move_then_die)
    else:
        real_write = publish_module.write_commit_record

        def commit_then_die(*args, **kwargs):
            real_write(*args, **kwargs)
            raise Killed

        monkeypatch.setattr(publish_module, "write_commit_record", commit_then_die)
    with pytest.raises(Killed):
        lake.run(spark, KEY, path)
    monkeypatch.undo()
    if kill_at == "before_publish":
        assert lake.rows_of(KEY) == v1  # the old version is still what readers see

    # THEN running the latest version again leaves exactly its rows, once
    lake.run(spark, KEY, path)
    latest = lake.rows_of(KEY)
    assert len(latest) == 180
    assert len({json.dumps(r, sort_keys=True, default=str) for r in latest}) == 180  # no twice
    assert lake.table().num_rows == 180


def test_exact_duplicates_are_written_once_and_counted(spark, lake):
    path, stats = lake.export(KEY, rows=400, seed=31, duplicates=0.1, date_ranges=2)
    manifest = lake.run(spark, KEY, path)
    assert stats.duplicate_rows > 0
    assert manifest["rows"]["duplicate_rows"] == stats.duplicate_rows
    assert manifest["rows"]["written"] == 400 - stats.duplicate_rows == lake.table().num_rows
    assert manifest["rows"]["rejected"] == 0  # duplicates are not rejects


def test_rows_without_a_measurement_are_counted_not_written_and_not_against_the_threshold(
    spark, lake
):
    # 30 % of the rows have no mean: far above the 1 % reject threshold, and still fine
    path, stats = lake.export(KEY, rows=300, seed=32, empty_means=0.3, date_ranges=2)
    manifest = lake.run(spark, KEY, path)
    assert manifest["rows"]["no_measurement"] == stats.no_measurement > 60
    assert manifest["rows"]["written"] == 300 - stats.no_measurement == lake.table().num_rows
    assert manifest["rows"]["rejected"] == 0


def test_a_file_with_only_rows_without_a_measurement_succeeds_with_nothing_to_register(spark, lake):
    path, _ = lake.export(KEY, rows=20, seed=33, empty_means=1.0)
    manifest = lake.run(spark, KEY, path)
    assert manifest["rows"]["written"] == 0 and manifest["rows"]["no_measurement"] == 20
    assert manifest["summary"]["register_statements"] == []


def test_non_finite_numbers_and_years_outside_the_contract_are_row_rejects(spark, lake):
    rows = [
        '1,a,2,b,"6/1/2019 - 6/30/2019, Weekdays, Daily Average",1e400,,',
        f'1,a,2,b,"6/1/2019 - 6/30/2019, Weekdays, Daily Average",{"9" * 400},,',
        '1,a,2,b,"6/1/1850 - 6/30/1850, Weekdays, Daily Average",100,,',
        *['1,a,2,b,"6/1/2019 - 6/30/2019, Weekdays, Daily Average",100,,'] * 2,
    ]
    path = lake.root / "raw" / KEY
    path.parent.mkdir(parents=True)
    path.write_text(TRAVEL_TIMES.example_header + "\n" + "\n".join(rows) + "\n")
    manifest = lake.run(spark, KEY, path, reject_threshold=0.9)
    assert manifest["rows"]["rejected_by_reason"]["bad_travel_time"] == 2
    assert manifest["rows"]["rejected_by_reason"]["bad_date_range"] == 1
    assert manifest["rows"]["written"] == 1 and manifest["rows"]["duplicate_rows"] == 1
    assert all(abs(r["mean_travel_time_s"]) < float("inf") for r in lake.table().to_pylist())


def test_a_city_column_naming_another_city_fails_the_job_and_writes_nothing(spark, lake):
    from export_rows import FIXTURES

    path = FIXTURES / "data_world_geometry.csv"
    with pytest.raises(CityMismatch, match=r"'johannesburg and pretoria'.*'paris'"):
        lake.run(spark, "travel_times/paris/jnb.csv", path)
    assert not (lake.curated / "travel_times").exists()
    manifest = lake.run(spark, "travel_times/johannesburg_and_pretoria/jnb.csv", path)
    assert manifest["rows"]["written"] == 3
