"""A Distributed Map's S3 calls over the lake home's bucket folders: ListObjectsV2 answers as S3
does (moto's S3 is the reference), the ItemReader hands items as Step Functions does, item files
are read as text and result files written whole."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from lake.asl import TaskFailure, TaskRequest
from lake.aws.s3 import put_file_bytes
from lake.aws.s3_items import (
    S3GetObjectItems,
    S3ListObjectsItems,
    S3PutObjectResults,
    list_objects_v2,
)
from lake.home import LakeHome

BUCKET = "movement-lake-raw"
OBJECTS = {
    "travel_times/bogota/a.csv": b"a",
    "travel_times/bogota/b b.csv": b"bb",
    "travel_times/bogota/z.csv.gz": b"zzz",
    "travel_times/quito/c.csv": b"cccc",
    "travel_times/bogota-norte/d.csv": b"d",
    "other/e.txt": b"e",
}


def request(parameters: dict) -> TaskRequest:
    return TaskRequest(
        resource="arn:aws:states:::s3:listObjectsV2",
        parameters=parameters,
        state_name="ReprocessFiles",
        context={},
        timeout_seconds=None,
    )


@pytest.fixture
def both(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    home = LakeHome(tmp_path).ensure()
    for key, data in OBJECTS.items():
        put_file_bytes(home, BUCKET, key, data)
    with mock_aws():
        reference = boto3.client("s3")
        reference.create_bucket(Bucket=BUCKET)
        for key, data in OBJECTS.items():
            reference.put_object(Bucket=BUCKET, Key=key, Body=data)
        yield home, reference


def _pages(list_page, **parameters) -> list[dict]:
    pages, token = [], None
    while True:
        page = list_page(**parameters, **({"ContinuationToken": token} if token else {}))
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        token = page["NextContinuationToken"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"Prefix": "travel_times/bogota/"},
        {"Prefix": "travel_times/"},
        {"Prefix": "travel_times/", "MaxKeys": 2},
        {"Prefix": "", "MaxKeys": 1},
        {"Prefix": "nothing/"},
        {"Prefix": "travel_times/", "StartAfter": "travel_times/bogota/b b.csv"},
    ],
)
def test_list_objects_v2_pages_as_s3_does(both, parameters):
    home, reference = both

    def ours(**kwargs):
        return list_objects_v2(home, Bucket=BUCKET, **kwargs)

    def theirs(**kwargs):
        return reference.list_objects_v2(Bucket=BUCKET, **kwargs)

    mine, s3 = _pages(ours, **parameters), _pages(theirs, **parameters)
    assert len(mine) == len(s3)
    for page, expected in zip(mine, s3, strict=True):
        for field in ("IsTruncated", "KeyCount", "Prefix", "MaxKeys"):
            assert page[field] == expected[field], field
        assert ("Contents" in page) == ("Contents" in expected)
        assert [(o["Key"], o["Size"], o["ETag"]) for o in page.get("Contents", [])] == [
            (o["Key"], o["Size"], o["ETag"]) for o in expected.get("Contents", [])
        ]


def test_the_item_reader_hands_each_object_as_step_functions_does(both):
    home, _ = both
    page = S3ListObjectsItems(home)(request({"Bucket": BUCKET, "Prefix": "travel_times/bogota/"}))
    assert page["IsTruncated"] is False
    first = page["Contents"][0]
    assert set(first) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert first["Key"] == "travel_times/bogota/a.csv"
    assert first["Etag"].startswith('"') and first["Etag"].endswith('"')
    assert isinstance(first["LastModified"], int)
    # the key as S3 lists it: raw, not URL-encoded as in S3's events
    assert [item["Key"] for item in page["Contents"]][1] == "travel_times/bogota/b b.csv"


def test_a_half_written_object_is_not_listed(both):
    home, _ = both
    hidden = home.object_path(BUCKET, "travel_times/bogota/.x.csv.1a2b.part")
    hidden.write_bytes(b"half")
    keys = [o["Key"] for o in list_objects_v2(home, Bucket=BUCKET)["Contents"]]
    assert all(not key.endswith(".part") for key in keys)


def test_listing_a_bucket_the_lake_does_not_have_fails_as_s3_names_it(both):
    home, _ = both
    with pytest.raises(TaskFailure) as failed:
        S3ListObjectsItems(home)(request({"Bucket": "nope"}))
    assert failed.value.error == "S3.NoSuchBucketException"


def test_item_files_are_read_as_text_and_results_written_whole(tmp_path):
    home = LakeHome(tmp_path).ensure()
    curated = home.settings.curated_bucket
    put = S3PutObjectResults(home)(
        request({"Bucket": curated, "Key": "backfills/run/manifest.json", "Body": '{"a": 1}'})
    )
    assert put["ETag"].startswith('"')
    read = S3GetObjectItems(home)(
        request({"Bucket": curated, "Key": "backfills/run/manifest.json"})
    )
    assert read == {"Body": '{"a": 1}'}
    with pytest.raises(TaskFailure) as missing:
        S3GetObjectItems(home)(request({"Bucket": curated, "Key": "backfills/none.json"}))
    assert missing.value.error == "S3.NoSuchKeyException"
