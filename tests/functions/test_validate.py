"""The validate handler against moto's S3 and real-shaped EventBridge events: every rejection of
the data contract with its own named error and an actionable message, and well-formed files."""

from __future__ import annotations

import copy
import gzip
import io
import json
from dataclasses import dataclass
from urllib.parse import quote_plus

import boto3
import pytest
from conftest import load_event
from export_rows import FIXTURES
from moto import mock_aws

from contract import errors
from functions import validate
from lake.aws.logs import function_logger

BUCKET = "movement-lake-raw-123456789012-eu-west-1"
HEADER = (
    "Origin Movement ID,Origin Display Name,Destination Movement ID,Destination Display Name,"
    "Date Range,Mean Travel Time (Seconds),Range - Lower Bound Travel Time (Seconds),"
    "Range - Upper Bound Travel Time (Seconds)"
)
ROWS = [
    '2922,Movement Zone 2922,9,Movement Zone 9,"6/1/2019 - 6/30/2019, Weekdays, Daily Average",'
    "2164,1666,2809",
    '17,"Chapinero, Norte",412,Usaquén,"6/1/2019 - 6/30/2019, Every day, AM Peak (7AM - 10AM)",'
    "1290.5,,1800",
    "3,Movement Zone 3,4,Movement Zone 4,6/1/2019 - 6/30/2019,600,500,700",
]


@dataclass
class FakeLambdaContext:
    function_name: str = "movement-lake-validate"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-west-1:123456789012:function:movement-lake-validate"
    )
    aws_request_id: str = "c9f1a2b3-4d5e-6f70-8192-a3b4c5d6e7f8"


LOGGER = function_logger("movement-lake-validate-tests")


@pytest.fixture(scope="module")
def s3():
    """moto's S3 with the raw bucket (versioned, as deployed), handed to the handler. One mock
    for the module (starting moto is the slow part); every test uploads its own object."""
    global HANDLER
    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        HANDLER = validate.make_handler(client, LOGGER)
        yield client


HANDLER = None  # the handler over moto's client (the `s3` fixture builds it)


def event_for(key: str, size: int = 0) -> dict:
    """The S3 "Object Created" event for `key`, its key URL-encoded as S3 sends it."""
    event = copy.deepcopy(load_event("s3_object_created"))
    event["detail"]["object"]["key"] = quote_plus(key, safe="/")
    event["detail"]["object"]["size"] = size
    return event


def upload(s3, key: str, body: bytes) -> dict:
    """Put an object and return its event, naming the version S3 gave it (as S3's does)."""
    version = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
    event = event_for(key, len(body))
    event["detail"]["object"]["version-id"] = version
    return event


def csv_bytes(rows=ROWS, header=HEADER, newline="\n", bom=False) -> bytes:
    text = newline.join([header, *rows]) + newline
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def run(event: dict, handler=None) -> dict:
    return (handler or HANDLER)(event, FakeLambdaContext())


def rejected(event: dict, error: type[Exception]) -> str:
    """Run the handler expecting `error`; its message must name the file."""
    with pytest.raises(error) as caught:
        run(event)
    key = validate.object_from_event(event).key
    message = str(caught.value)
    assert f"s3://{BUCKET}/{key}" in message
    assert isinstance(caught.value, errors.FileRejected)
    return message


# --- well-formed files --------------------------------------------------------------------


def test_a_well_formed_csv_is_accepted_with_what_the_job_needs(s3):
    # GIVEN a valid export uploaded to travel_times/bogota/
    event = upload(s3, "travel_times/bogota/2019-q2.csv", csv_bytes())
    # WHEN the workflow validates it
    result = run(event)
    # THEN the result carries the fields the state machine selects, and the sample's counts
    assert result["bucket"] == BUCKET
    assert result["key"] == "travel_times/bogota/2019-q2.csv"
    assert result["city"] == "bogota"
    assert result["source_path"] == f"s3://{BUCKET}/travel_times/bogota/2019-q2.csv"
    assert result["size"] == len(csv_bytes())
    assert result["version_id"]
    assert result["compression"] == "none"
    assert result["rows_sampled"] == 3
    assert result["rows_rejected_in_sample"] == 0
    assert result["sample_is_whole_file"] is True
    json.dumps(result)  # the Lambda payload must be JSON


def test_a_gzipped_csv_with_bom_and_crlf_is_accepted(s3):
    body = gzip.compress(csv_bytes(newline="\r\n", bom=True))
    event = upload(s3, "travel_times/sao-paulo/2019-q2.csv.gz", body)
    result = run(event)
    assert result["compression"] == "gzip"
    assert result["city"] == "sao-paulo"
    assert result["size"] == len(body)
    assert result["columns"][0] == "Origin Movement ID"  # BOM stripped from the header
    assert result["rows_sampled"] == 3 and result["rows_rejected_in_sample"] == 0


def test_extra_geometry_columns_in_any_order_are_accepted_and_reported(s3):
    names = HEADER.split(",")
    header = ",".join(["Origin Geometry", *reversed(names), "Destination Geometry"])
    rows = [
        '"POLYGON((0 0,1 0,1 1,0 0))",2809,1666,2164,'
        '"6/1/2019 - 6/30/2019, Weekdays, Daily Average",Movement Zone 9,9,'
        'Movement Zone 2922,2922,"POLYGON((2 2,3 2,3 3,2 2))"'
    ]
    event = upload(s3, "travel_times/bogota/geo.csv", csv_bytes(rows, header))
    result = run(event)
    assert result["extra_columns"] == ["Origin Geometry", "Destination Geometry"]
    assert result["rows_rejected_in_sample"] == 0


def test_a_url_encoded_key_in_the_event_is_decoded_before_reading(s3):
    key = "travel_times/bogota/2019 q2 (weekdays)+v2.csv"
    event = upload(s3, key, csv_bytes())
    assert event["detail"]["object"]["key"] != key  # as S3 sends it: encoded
    assert run(event)["key"] == key


def test_rows_that_fail_here_and_there_are_left_to_the_job_and_counted(s3):
    bad = "5,Zone 5,6,Zone 6,June 2019,100,90,110"
    event = upload(s3, "travel_times/bogota/mixed.csv", csv_bytes([*ROWS, bad]))
    result = run(event)
    assert result["rows_rejected_in_sample"] == 1
    assert result["reject_reasons_in_sample"] == {"bad_date_range": 1}


class RecordingClient:
    """Records the S3 calls the handler makes (the local runtime serves only these two)."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def head_object(self, **kwargs):
        self.calls.append(("head_object", kwargs))
        return self.client.head_object(**kwargs)

    def get_object(self, **kwargs):
        self.calls.append(("get_object", kwargs))
        return self.client.get_object(**kwargs)


def test_only_the_head_of_a_large_gzip_is_read(s3):
    # GIVEN a gzip export of several MiB whose compressed size exceeds the head
    import random

    rng = random.Random(7)
    rows = [
        f"{rng.randint(1, 9999)},Zone {rng.random()},{rng.randint(1, 9999)},Zone {rng.random()},"
        f'"6/1/2019 - 6/30/2019, Weekdays, Daily Average",{rng.random() * 3000:.2f},,'
        for _ in range(40_000)
    ]
    body = gzip.compress(csv_bytes(rows))
    assert len(body) > validate.HEAD_BYTES
    event = upload(s3, "travel_times/bogota/big.csv.gz", body)
    recorder = RecordingClient(s3)
    # WHEN it is validated by a handler over that client
    result = run(event, validate.make_handler(recorder, LOGGER))
    # THEN one HEAD and one ranged GET of at most HEAD_BYTES were made, and the cut-off
    # stream was sampled, not rejected
    assert [name for name, _ in recorder.calls] == ["head_object", "get_object"]
    assert recorder.calls[1][1]["Range"] == f"bytes=0-{validate.HEAD_BYTES - 1}"
    assert result["size"] == len(body)
    assert result["rows_sampled"] == validate.SAMPLE_ROWS
    assert result["sample_is_whole_file"] is False


@pytest.fixture
def log_lines():
    """The handler's powertools log records, parsed from JSON."""
    stream = io.StringIO()
    previous = LOGGER.registered_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    LOGGER.registered_handler.setStream(previous)


def test_the_handler_logs_its_verdict_as_structured_json(s3, log_lines):
    event = upload(s3, "travel_times/bogota/2019-q2.csv", csv_bytes())
    run(event)
    logs = log_lines()
    accepted = [entry for entry in logs if entry["message"] == "file accepted"]
    assert accepted and accepted[0]["source_path"].endswith("travel_times/bogota/2019-q2.csv")
    assert accepted[0]["function_request_id"] == FakeLambdaContext.aws_request_id


# --- rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("travel_times/bogota/2019/q2.csv", "exactly one city folder"),
        ("travel_times/q2.csv", "exactly one city folder"),
        ("uploads/bogota/q2.csv", "travel_times/<city>/<file name>.csv"),
    ],
)
def test_a_key_outside_the_layout_is_rejected_with_the_expected_layout(s3, key, expected):
    message = rejected(event_for(key), errors.InvalidSourceKey)
    assert expected in message
    assert "Move or copy the file" in message


def test_a_bad_city_slug_is_rejected_with_a_suggested_slug(s3):
    message = rejected(event_for("travel_times/São Paulo/2019-q2.csv"), errors.InvalidSourceKey)
    assert "'sao-paulo'" in message
    # The named error is also the contract's, for callers that catch those.
    with pytest.raises(errors.InvalidSourceKey):
        run(event_for("travel_times/-bogota/2019-q2.csv"))


def test_an_empty_file_is_rejected(s3):
    message = rejected(upload(s3, "travel_times/bogota/empty.csv", b""), errors.EmptyFile)
    assert "empty (0 bytes)" in message and "Upload the export again" in message


def test_a_gzip_of_nothing_but_blank_lines_is_rejected_as_empty(s3):
    event = upload(s3, "travel_times/bogota/blank.csv.gz", gzip.compress(b"\r\n\n  \n"))
    message = rejected(event, errors.EmptyFile)
    assert "inside the gzip" in message


def test_a_gz_key_holding_plain_text_is_rejected_as_not_gzip(s3):
    message = rejected(upload(s3, "travel_times/bogota/q2.csv.gz", csv_bytes()), errors.NotGzip)
    assert "not gzip data" in message and "gzip export.csv" in message


def test_a_truncated_gzip_is_rejected_as_not_gzip(s3):
    body = gzip.compress(csv_bytes())[:-12]  # the upload was cut off before the end marker
    message = rejected(upload(s3, "travel_times/bogota/cut.csv.gz", body), errors.NotGzip)
    assert "truncated gzip" in message


def test_a_gzip_under_a_csv_key_is_rejected_with_the_rename_to_make(s3):
    event = upload(s3, "travel_times/bogota/q2.csv", gzip.compress(csv_bytes()))
    message = rejected(event, errors.NotUtf8)
    assert ".csv.gz" in message


def test_latin1_text_is_rejected_as_not_utf8_with_where_and_how_to_fix(s3):
    body = csv_bytes().decode().encode("latin-1")  # 'Usaquén' becomes the single byte 0xe9
    message = rejected(upload(s3, "travel_times/bogota/latin1.csv", body), errors.NotUtf8)
    assert "byte 0xe9" in message and "line 3" in message
    assert "Save the export as UTF-8" in message


def test_a_missing_column_is_rejected_naming_the_column(s3):
    header = HEADER.replace("Date Range,", "Period,")
    event = upload(s3, "travel_times/bogota/q2.csv", csv_bytes(header=header))
    message = rejected(event, errors.MissingColumns)
    assert "'Date Range'" in message and "Fix the header line" in message


def test_a_header_without_rows_is_rejected(s3):
    event = upload(s3, "travel_times/bogota/q2.csv", csv_bytes(rows=[], newline="\r\n"))
    message = rejected(event, errors.NoDataRows)
    assert "no data rows" in message and "Upload the complete export" in message


def test_a_file_whose_every_sampled_row_breaks_the_contract_is_rejected_with_counts(s3):
    rows = [
        "1,Zone 1,2,Zone 2,2019-06-01/2019-06-30,100,90,110",
        "3,Zone 3,4,Zone 4,2019-06-01/2019-06-30,100,90,110",
        "-5,Zone 5,6,Zone 6,6/1/2019 - 6/30/2019,100,90,110",
    ]
    event = upload(s3, "travel_times/bogota/q2.csv", csv_bytes(rows))
    message = rejected(event, errors.RowsRejected)
    assert "all 3 rows" in message
    assert "bad_date_range: 2" in message and "bad_movement_id: 1" in message
    assert "line 2" in message and "6/1/2019 - 6/30/2019" in message  # the fix shows the format


def test_a_file_deleted_before_validation_is_reported(s3):
    message = rejected(event_for("travel_times/bogota/gone.csv"), errors.FileNotFound)
    assert "no longer exists" in message and "Upload it again" in message


def test_an_event_that_is_not_object_created_is_refused(s3):
    with pytest.raises(errors.InvalidEvent, match="Object Deleted"):
        run(load_event("s3_object_deleted"))
    with pytest.raises(errors.InvalidEvent, match="not an S3 'Object Created' event"):
        run({"detail": {}})


def test_a_rejection_is_logged_with_its_error_name(s3, log_lines):
    with pytest.raises(errors.EmptyFile):
        run(upload(s3, "travel_times/bogota/empty.csv", b""))
    logs = log_lines()
    warning = next(entry for entry in logs if entry["message"] == "file rejected")
    assert warning["level"] == "WARNING" and warning["error"] == "EmptyFile"


def test_every_error_the_validator_raises_means_fix_the_file():
    # Every `raise errors.X(...)` of the handler must be a file fault: the alert then says
    # "fix the file and upload it again" and the workflow's Retry never retries it.
    import ast
    import inspect

    raised = {
        node.exc.func.attr
        for node in ast.walk(ast.parse(inspect.getsource(validate)))
        if isinstance(node, ast.Raise)
        and isinstance(getattr(node.exc, "func", None), ast.Attribute)
        and getattr(node.exc.func.value, "id", None) == "errors"
    }
    assert raised, "the validator raises named errors"
    assert raised <= errors.FILE_FAULTS, raised - errors.FILE_FAULTS


# --- the accepted formats, and what is recognised and refused ---------------------------------


@pytest.mark.parametrize(
    ("name", "city", "fmt"),
    [
        ("movement_quoted.csv", "bengaluru", "movement_travel_times"),
        ("movement_unquoted_distance.csv", "boston", "movement_travel_times"),
        ("data_world_geometry.csv", "johannesburg_and_pretoria", "data_world_snake_case"),
        ("daily.csv", "nairobi", "movement_travel_times_daily"),
        ("day_of_week.csv", "bengaluru", "movement_day_of_week"),
        ("time_of_day.csv", "bengaluru", "movement_time_of_day"),
    ],
)
def test_every_accepted_format_passes_validation_with_its_name(s3, name, city, fmt):
    event = upload(s3, f"travel_times/{city}/{name}", (FIXTURES / name).read_bytes())
    result = run(event)
    assert result["format"] == fmt and result["city"] == city
    assert result["rows_rejected_in_sample"] == 0


def test_the_time_of_day_exports_empty_mean_is_counted_as_no_measurement(s3):
    event = upload(
        s3, "travel_times/bengaluru/tod.csv", (FIXTURES / "time_of_day.csv").read_bytes()
    )
    assert run(event)["no_measurement_in_sample"] == 1


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("comparison.csv", 'Movement "comparison" export'),
        ("bulk_hod.csv", "Movement bulk aggregate"),
        ("speeds.csv", "Movement speeds data"),
    ],
)
def test_a_recognised_product_fails_naming_what_it_is_and_what_is_taken(s3, name, what):
    import time

    event = upload(s3, f"travel_times/bogota/{name}", (FIXTURES / name).read_bytes())
    started = time.perf_counter()
    message = rejected(event, errors.UnsupportedProduct)
    assert time.perf_counter() - started < 1.0  # at Validate, from the head: no Spark work
    assert what in message and "which the lake does not take" in message
    assert 'Movement "Travel Times" export (Origin Movement ID,' in message


def test_a_city_column_naming_another_city_fails_naming_both(s3):
    body = (FIXTURES / "data_world_geometry.csv").read_bytes()
    event = upload(s3, "travel_times/paris/jnb.csv", body)
    message = rejected(event, errors.CityMismatch)
    assert "'Johannesburg and Pretoria'" in message and "'paris'" in message


def test_a_gzip_of_several_members_is_read_across_them(s3):
    # `cat header.gz rows.gz > export.csv.gz` is valid gzip (RFC 1952: a series of members)
    header, rows = csv_bytes().split(b"\n", 1)
    body = gzip.compress(header + b"\n") + gzip.compress(rows)
    result = run(upload(s3, "travel_times/bogota/joined.csv.gz", body))
    assert result["rows_sampled"] == 3 and result["sample_is_whole_file"] is True


def test_a_header_of_too_many_columns_is_rejected_before_any_parsing(s3):
    header = HEADER + "".join(f",extra {i}" for i in range(1_000))
    event = upload(s3, "travel_times/bogota/wide.csv", csv_bytes(header=header))
    message = rejected(event, errors.TooManyColumns)
    assert "1,008 columns" in message and "fix it and upload it again" in message


def test_a_gzip_with_a_huge_field_is_rejected_from_its_head(s3):
    # 255 KiB of gzip holding a 256 MiB field: only the inflated head (a few MiB) is read
    field = b"x" * (256 * 1024 * 1024)
    body = gzip.compress(csv_bytes()[:-1] + b',"' + field + b'"\n', compresslevel=9)
    event = upload(s3, "travel_times/bogota/bomb.csv.gz", body)
    message = rejected(event, errors.FieldTooLarge)
    assert "longer than 1,048,576 characters" in message and "upload it again" in message


def test_a_backfill_event_carrying_the_key_as_listed_finds_the_object(s3):
    key = "travel_times/bogota/q2 +v3.csv"
    event = upload(s3, key, csv_bytes())
    event["detail"]["object"]["key"] = key  # as a listing gives it, not URL-encoded
    assert run(event)["key"] == key
