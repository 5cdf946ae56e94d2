"""The runtime's S3 client answers like boto3 against S3 (moto's S3 is the reference here)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lake.aws.s3 import LocalS3Client, put_file_bytes
from lake.home import LakeHome

BUCKET = "movement-lake-raw"
KEY = "travel_times/bogota/x.csv"
DATA = "Origin Movement ID,Origin Display Name\n1,Zona Ñ\n".encode() * 50


@pytest.fixture
def clients(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    home = LakeHome(tmp_path).ensure()
    put_file_bytes(home, BUCKET, KEY, DATA)
    with mock_aws():
        reference = boto3.client("s3")
        reference.create_bucket(Bucket=BUCKET)
        reference.put_object(Bucket=BUCKET, Key=KEY, Body=DATA)
        yield LocalS3Client(home), reference


@pytest.mark.parametrize(
    "byte_range", [None, "bytes=0-99", "bytes=10-", "bytes=-25", "bytes=0-99999"]
)
def test_get_object_returns_the_same_bytes_range_and_etag(clients, byte_range):
    local, reference = clients
    extra = {"Range": byte_range} if byte_range else {}
    mine = local.get_object(Bucket=BUCKET, Key=KEY, **extra)
    theirs = reference.get_object(Bucket=BUCKET, Key=KEY, **extra)
    assert mine["Body"].read() == theirs["Body"].read()
    assert mine["ETag"] == theirs["ETag"]
    assert mine["ContentLength"] == theirs["ContentLength"]
    assert mine.get("ContentRange") == theirs.get("ContentRange")


def test_head_object_reports_size_and_etag(clients):
    local, reference = clients
    mine, theirs = (
        local.head_object(Bucket=BUCKET, Key=KEY),
        reference.head_object(Bucket=BUCKET, Key=KEY),
    )
    assert (mine["ContentLength"], mine["ETag"]) == (theirs["ContentLength"], theirs["ETag"])


def test_missing_objects_raise_the_same_error_codes(clients):
    local, reference = clients
    for client in (local, reference):
        with pytest.raises(client.exceptions.NoSuchKey) as got:
            client.get_object(Bucket=BUCKET, Key="travel_times/none.csv")
        assert got.value.response["Error"]["Code"] == "NoSuchKey"
        with pytest.raises(ClientError) as head:
            client.head_object(Bucket=BUCKET, Key="travel_times/none.csv")
        assert head.value.response["Error"]["Code"] == "404"


def test_keys_cannot_escape_their_bucket(tmp_path):
    home = LakeHome(tmp_path).ensure()
    (tmp_path / "secret.txt").write_text("no")
    with pytest.raises(ClientError):
        LocalS3Client(home).get_object(Bucket=BUCKET, Key="../../secret.txt")
