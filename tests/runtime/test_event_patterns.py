"""The EventBridge pattern matcher, on the very rule pattern the stack deploys."""

from __future__ import annotations

import copy

import pytest
from conftest import load_event

from contract.events import object_created_rule_pattern
from lake.aws.event_patterns import UnsupportedPattern, matches

RAW = "movement-lake-raw"


def _event(key: str, bucket: str = RAW, detail_type: str = "Object Created") -> dict:
    event = copy.deepcopy(load_event("s3_object_created"))
    event["detail"]["object"]["key"] = key
    event["detail"]["bucket"]["name"] = bucket
    event["detail-type"] = detail_type
    return event


@pytest.mark.parametrize(
    "key",
    ["travel_times/bogota/2019-q2.csv", "travel_times/sao-paulo/x.csv.gz", "travel_times/x.csv"],
)
def test_the_rule_starts_the_workflow_for_exports_under_travel_times(key):
    # GIVEN the stack's rule pattern WHEN S3 reports a .csv/.csv.gz under travel_times/
    # THEN it matches (a key without a city folder too: the validator explains the layout)
    assert matches(object_created_rule_pattern(RAW), _event(key))


@pytest.mark.parametrize(
    ("key", "bucket", "detail_type"),
    [
        ("travel_times/bogota/notes.txt", RAW, "Object Created"),
        ("travel_times/bogota/x.csv.zip", RAW, "Object Created"),
        ("other/bogota/x.csv", RAW, "Object Created"),
        ("travel_times/bogota/x.csv", "someone-elses-bucket", "Object Created"),
        ("travel_times/bogota/x.csv", RAW, "Object Deleted"),
    ],
)
def test_the_rule_ignores_other_keys_buckets_and_event_types(key, bucket, detail_type):
    assert not matches(object_created_rule_pattern(RAW), _event(key, bucket, detail_type))


def test_wildcard_star_spans_folders_and_escaped_star_is_literal():
    assert matches({"k": [{"wildcard": "a*z"}]}, {"k": "a/b/c/z"})
    assert matches({"k": [{"wildcard": r"a\*z"}]}, {"k": "a*z"})
    assert not matches({"k": [{"wildcard": r"a\*z"}]}, {"k": "abz"})


def test_exact_values_do_not_equate_numbers_with_strings():
    assert matches({"size": [5]}, {"size": 5})
    assert not matches({"size": ["5"]}, {"size": 5})


def test_an_array_in_the_event_matches_when_any_element_does():
    assert matches({"resources": ["arn:b"]}, {"resources": ["arn:a", "arn:b"]})


def test_prefix_suffix_exists_anything_but_and_numeric():
    event = {"key": "travel_times/x.csv", "size": 10, "status": "FAILED"}
    assert matches({"key": [{"prefix": "travel_times/"}], "size": [{"numeric": [">", 5]}]}, event)
    assert matches(
        {"key": [{"suffix": ".csv"}], "status": [{"anything-but": ["SUCCEEDED"]}]}, event
    )
    assert matches({"missing": [{"exists": False}], "key": [{"exists": True}]}, event)
    assert not matches({"size": [{"numeric": [">=", 11]}]}, event)
    assert not matches({"missing": ["x"]}, event)


@pytest.mark.parametrize(
    "pattern",
    [
        {"ip": [{"cidr": "10.0.0.0/24"}]},
        {"$or": [{"a": ["b"]}]},
        {"a": "not-an-array"},
        {"a": [{"prefix": "x", "suffix": "y"}]},
    ],
)
def test_unknown_operators_are_refused_not_silently_unmatched(pattern):
    with pytest.raises(UnsupportedPattern):
        matches(pattern, {"a": "b", "ip": "10.0.0.1"})
