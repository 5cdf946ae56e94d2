"""A plain CSV read split (several partitions, in parallel) gives exactly what the one-task
multiLine read gives: the same table rows in the same order, the same rejects with the same
`source_row`, the same counts; a file with a quoted line break is read multiLine, exactly."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from export_rows import valid_row
from job_support import Lake

from contract import columns as c
from contract.formats import MOVEMENT_COLUMNS, recognise
from glue import rows
from glue.job import Counting, classified_rows
from glue.lines import LineSurvey, first_rows, survey_lines
from glue.object_store import storage_for
from glue.read import read_header
from lake.ui.generate import FORMATS, generate

pytestmark = pytest.mark.spark

KEY = "travel_times/bogota/split.csv"
INGESTED_AT = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@contextlib.contextmanager
def split_every(spark, max_bytes: int):
    """Spark cuts files into splits of at most `max_bytes` (the default is 128 MB)."""
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, str(max_bytes))
    try:
        yield
    finally:
        spark.conf.set(key, before)


def _tricky_export(path: Path, crlf: bool) -> None:
    """A generated export with rejects and duplicates, then lines that test the line survey:
    quoted commas, doubled quotes, empty lines, a short row and a duplicate of a reject."""
    generate(path, rows=400, seed=7, bad_share=0.2, duplicates=0.1, crlf=crlf)
    end = "\r\n" if crlf else "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=end)
    named = valid_row({c.ORIGIN_NAME: 'Rua "Augusta", São Paulo', c.DESTINATION_NAME: "a,b"})
    writer.writerow([named.get(name, "") for name in MOVEMENT_COLUMNS])
    out.write(end)  # an empty line: no row in either read
    writer.writerow(["1", "2", "x"])  # too few fields: malformed
    bad = valid_row({c.ORIGIN_ID: "-4"})
    writer.writerow([bad.get(name, "") for name in MOVEMENT_COLUMNS])
    writer.writerow([bad.get(name, "") for name in MOVEMENT_COLUMNS])  # a duplicate reject
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(out.getvalue())


def _outcome(spark, path: Path, survey: LineSurvey | None):
    """The table rows (with source_row, in file order), the rejects and the counts of one read
    of `path`."""
    storage = storage_for(str(path))
    header = read_header(storage, str(path), KEY)
    recognised = recognise(header, source=KEY)
    counting = Counting(uuid.uuid4().hex)
    classified = classified_rows(spark, str(path), header, recognised, counting, survey)
    table = rows.table_rows(
        classified, KEY, "bogota", INGESTED_AT, recognised.format.name, with_source_row=True
    )
    table_rows = sorted((r.asDict() for r in table.collect()), key=lambda r: r[rows.SOURCE_ROW])
    rejects = [
        r.asDict() for r in rows.rejected_rows(classified, recognised.format.fields()).collect()
    ]
    return table_rows, rejects, counting.counts()


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_a_split_read_gives_exactly_the_multiline_reads_rows_and_rejects(spark, tmp_path, crlf):
    # GIVEN an export with rejects, duplicates, quoted commas and doubled quotes
    path = tmp_path / "split.csv"
    _tricky_export(path, crlf)
    with split_every(spark, 4096):
        # WHEN it is surveyed with 4 KB splits
        survey = survey_lines(spark, str(path))
        # THEN it is read split, in several splits
        assert survey.splittable
        assert survey.splits >= 5
        split = _outcome(spark, path, survey)
    # AND the one-task multiLine read gives the very same table, rejects and counts
    whole = _outcome(spark, path, None)
    assert split[2] == whole[2]
    assert split[2].duplicate_rows > 0 and split[2].rejected > 0
    assert split[1] == whole[1]
    assert split[0] == whole[0]
    # AND source_row is the row's line under the header (line 1 of the file is the header)
    # (cut at LF only: str.splitlines also cuts at the Unicode breaks some values hold)
    text = path.read_text(encoding="utf-8")
    lines = [line.removesuffix("\r") for line in text.split("\n") if line.removesuffix("\r")]
    malformed = [r for r in whole[1] if r[rows.REJECT_REASON] == c.MALFORMED_ROW]
    assert "1,2,x" in {r[rows.RAW_RECORD] for r in malformed}
    assert [lines[r[rows.SOURCE_ROW]] for r in malformed] == [r[rows.RAW_RECORD] for r in malformed]
    assert {r[rows.SOURCE_ROW] for r in whole[1]} >= {len(lines) - 2}  # the later duplicate goes


def test_a_small_file_is_checked_in_its_one_task_with_the_spread_reads_rows(spark, tmp_path):
    # GIVEN an export with rejects, duplicates, quoted commas and doubled quotes, of one split
    path = tmp_path / "small.csv"
    _tricky_export(path, crlf=False)
    survey = survey_lines(spark, str(path))
    assert survey.small and not survey.splittable
    # WHEN it is read as the job reads a small file: its rows stay in the task that read them
    counting = Counting(uuid.uuid4().hex)
    header = read_header(storage_for(str(path)), str(path), KEY)
    classified = classified_rows(
        spark, str(path), header, recognise(header, source=KEY), counting, survey
    )
    # THEN Spark plans no shuffle for it
    plan = classified._jdf.queryExecution().executedPlan().toString()
    assert "Exchange" not in plan
    # AND it gives the very table, rejects and counts of the rows spread by start date
    assert _outcome(spark, path, survey) == _outcome(spark, path, None)


def test_a_quoted_line_break_sends_the_file_to_the_multiline_read(spark, tmp_path):
    # GIVEN an export whose origin name holds a line break inside quotes, and a short row after
    path = tmp_path / "multiline.csv"
    header = list(MOVEMENT_COLUMNS.values())
    first = valid_row({c.ORIGIN_NAME: "Zona\nNorte"})
    second = valid_row({c.ORIGIN_ID: "17"})
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerow([first.get(name, "") for name in MOVEMENT_COLUMNS])
        writer.writerow([second.get(name, "") for name in MOVEMENT_COLUMNS])
        writer.writerow(["1", "2"])
    with split_every(spark, 256):
        # WHEN it is surveyed
        survey = survey_lines(spark, str(path))
        # THEN it may not be read split
        assert not survey.splittable
        table, rejects, counts = _outcome(spark, path, survey)
    # AND the multiLine read keeps the line break in its field and numbers rows exactly
    assert [r["origin_display_name"] for r in table] == ["Zona\nNorte", second[c.ORIGIN_NAME]]
    assert [r[rows.SOURCE_ROW] for r in table] == [1, 2]
    assert [(r[rows.REJECT_REASON], r[rows.SOURCE_ROW]) for r in rejects] == [(c.MALFORMED_ROW, 3)]
    assert counts.read == 3


@pytest.mark.parametrize(
    "line",
    ['1,"a"b",3', '1,a"b,"c', "   ", '"open,2,3', "a\rb,2,3"],
    ids=["quote-after-field", "stray-quote", "whitespace-line", "open-quote", "lone-cr"],
)
def test_the_survey_refuses_any_line_that_may_not_be_a_whole_record(spark, tmp_path, line):
    path = tmp_path / "odd.csv"
    path.write_text("a,b,c\n1,2,3\n" + line + "\n4,5,6\n", encoding="utf-8", newline="")
    with split_every(spark, 8):
        survey = survey_lines(spark, str(path))
    assert (survey.splittable, survey.why) == (False, "a line may hold part of a quoted field")


def test_a_file_read_in_one_split_anyway_is_not_surveyed(spark, tmp_path):
    # GIVEN a clean file smaller than the smallest split Spark cuts (openCostInBytes, 4 MB)
    path = tmp_path / "small.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n", encoding="utf-8", newline="")
    # THEN it is read multiLine, as parallel as a split read of it would be
    assert (
        survey_lines(spark, str(path)).read == "multiLine (one split: nothing to read in parallel)"
    )
    # AND with smaller splits the same file is surveyed and read split
    with split_every(spark, 8):
        assert survey_lines(spark, str(path)).read == "split (every line a whole record)"


def test_the_job_reads_a_big_clean_file_split_and_writes_one_file_per_partition(spark, tmp_path):
    # GIVEN a clean export of several date ranges, cut into many splits
    lake = Lake(tmp_path)
    key = "travel_times/bogota/many.csv"
    path, stats = lake.export(key, rows=3000, seed=3, date_ranges=6)
    with split_every(spark, 16 * 1024):
        assert survey_lines(spark, str(path)).splits >= 8
        # WHEN the job runs
        manifest = lake.run(spark, key, path)
    # THEN every row is written once, one Parquet file per table partition
    assert manifest["rows"]["written"] == len(lake.rows_of(key)) == stats.written
    files = sorted((tmp_path / "curated" / "travel_times").rglob("*.parquet"))
    assert len(files) == len({f.parent for f in files}) > 1
    # AND each file's rows are in the job's order (the writer did not sort them again)
    for file in files:
        written = pq.read_table(file, columns=list(rows.SORT_COLUMNS)).to_pylist()
        # (Spark sorts nulls first, and strings by code point as Python does)
        keys = [tuple((r[n] is not None, r[n]) for n in rows.SORT_COLUMNS) for r in written]
        assert keys == sorted(keys)


def _sorts_in_the_last_write(spark) -> int:
    """The Sort operators in the physical plan of the session's last Parquet write (Spark's SQL
    status store keeps every query's plan, the UI off or not)."""
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    plans = [executions.apply(i).physicalPlanDescription() for i in range(executions.size())]
    write = [p for p in plans if "InsertIntoHadoopFsRelationCommand" in p][-1]
    tree = write.split("\n\n")[0]  # the operator tree, before each operator's details
    return sum(1 for line in tree.splitlines() if line.lstrip(" +-:").startswith("Sort "))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_job_sorts_a_files_rows_once_to_drop_duplicates_and_to_write(spark, tmp_path, name):
    # GIVEN an export of that format, read split
    lake = Lake(tmp_path)
    key = f"travel_times/bogota/{name}.csv"
    path, _ = lake.export(key, rows=300, seed=5, export_format=name)
    with split_every(spark, 4096):
        assert survey_lines(spark, str(path)).splittable
        # WHEN the job runs
        lake.run(spark, key, path)
    # THEN its write sorts once: the sort that drops duplicates is the order written, and the
    # writer adds none; the daily export's rows, unpivoted, are sorted once more
    assert _sorts_in_the_last_write(spark) == (2 if FORMATS[name].periods else 1)


def test_split_offsets_follow_the_file_when_a_partition_holds_two_splits():
    # GIVEN three splits, the last two packed into one partition in the order 200, 100
    per_split = [
        {"partition": 0, "start": 0, "counted": 5, "scan_order": 0},
        {"partition": 1, "start": 200, "counted": 3, "scan_order": 1 << 33},
        {"partition": 1, "start": 100, "counted": 4, "scan_order": (1 << 33) + 3},
    ]
    # THEN each split's rows start where the file's rows before it end (the header is not a row)
    assert first_rows(per_split) == {0: 0, 100: 4 - 3, 200: 8 - 0}


def test_a_gzip_export_is_inflated_then_read_split_with_the_plain_files_rows(spark, tmp_path):
    # GIVEN the same export uploaded plain and gzipped, under two keys
    lake = Lake(tmp_path)
    plain_key, gzip_key = "travel_times/bogota/same.csv", "travel_times/bogota/same.csv.gz"
    options = {"rows": 1500, "seed": 5, "bad_share": 0.005, "duplicates": 0.05}
    plain, _ = lake.export(plain_key, **options)
    packed, _ = lake.export(gzip_key, **options)
    with split_every(spark, 16 * 1024):
        # WHEN the job ingests both, with small splits
        counts = [
            lake.run(spark, key, path)["rows"]
            for key, path in ((plain_key, plain), (gzip_key, packed))
        ]
    # THEN both give the same counts and the same table rows
    assert counts[0] == counts[1] and counts[0]["duplicate_rows"] > 0

    def content(key: str) -> list[dict]:
        rows = [{k: v for k, v in r.items() if k != "source_key"} for r in lake.rows_of(key)]
        return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))

    assert content(plain_key) == content(gzip_key)
