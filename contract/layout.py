"""Where a file lands in the raw bucket, and where its rows land in the curated bucket."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contract.errors import InvalidSourceKey

RAW_PREFIX = "travel_times/"
RAW_SUFFIXES = (".csv", ".csv.gz")
EXPECTED_LAYOUT = (
    "travel_times/<city>/<file name>.csv or .csv.gz, where <city> is a slug of 2 to 64 "
    "lowercase letters, digits, '-' and '_' starting and ending with a letter or digit "
    "(e.g. travel_times/sao-paulo/2019-q2.csv, travel_times/johannesburg_and_pretoria/q1.csv)"
)
# 2 to 64 characters: first and last alphanumeric, '-' and '_' allowed in between.
CITY_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}[a-z0-9]$")

# Curated bucket layout.
TABLE_PREFIX = "travel_times/"
REJECTS_PREFIX = "rejects/travel_times/"
MANIFESTS_PREFIX = "manifests/"
STAGING_PREFIX = "_staging/"  # a run's output before it is published
COMMITS_PREFIX = "_commits/"  # per source key: its commit record and its publish lock


def commit_record_key(source_key: str) -> str:
    """Which version of `source_key` the table holds, and its files (the backfill reads it)."""
    return f"{COMMITS_PREFIX}{source_key}.json"


def publish_lock_key(source_key: str) -> str:
    return f"{COMMITS_PREFIX}{source_key}.lock"


@dataclass(frozen=True)
class SourceKey:
    """A raw object key that follows the layout: its identity, city and compression."""

    key: str
    city: str
    file_name: str

    @property
    def gzipped(self) -> bool:
        return self.key.endswith(".gz")


def starts_workflow(key: str) -> bool:
    """True for the keys the EventBridge rule matches: under `travel_times/`, `.csv`/`.csv.gz`."""
    return key.startswith(RAW_PREFIX) and key.endswith(RAW_SUFFIXES)


def parse_source_key(key: str) -> SourceKey:
    """Split a raw key into city and file name, or raise InvalidSourceKey saying what to do."""
    if not starts_workflow(key):
        raise InvalidSourceKey(
            f"s3 key {key!r} is not a travel-times export: expected {EXPECTED_LAYOUT}."
        )
    parts = key[len(RAW_PREFIX) :].split("/")
    if len(parts) != 2:
        raise InvalidSourceKey(
            f"s3 key {key!r} has {len(parts) - 1} folder(s) below travel_times/, expected exactly "
            f"one city folder: {EXPECTED_LAYOUT}. Move the file to travel_times/<city>/."
        )
    city, file_name = parts
    if not CITY_SLUG.match(city):
        raise InvalidSourceKey(
            f"s3 key {key!r}: {city!r} is not a valid city folder. Expected {EXPECTED_LAYOUT}. "
            f"Rename the folder to a slug such as {city_slug_suggestion(city)!r}."
        )
    stem = file_name.removesuffix(".gz").removesuffix(".csv")
    if not stem:
        raise InvalidSourceKey(
            f"s3 key {key!r} has an empty file name: expected {EXPECTED_LAYOUT}."
        )
    return SourceKey(key=key, city=city, file_name=file_name)


def city_key(name: str) -> str:
    """A city's name as names are compared (a `city` column against the folder): accents
    folded, case ignored, and '-', '_' and spaces alike (`Johannesburg and Pretoria` names
    `johannesburg_and_pretoria`)."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[-_\s]+", " ", folded.lower()).split())


def city_slug_suggestion(name: str) -> str:
    """A slug close to `name` (for error messages): lowercase ASCII, runs of other chars as '-'."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug if len(slug) >= 2 else "my-city"


def city_folder(city: str) -> str:
    """The folder of a city's partitions below the table root: `city=x` (a slug needs no
    escaping)."""
    return f"city={city}"


def partition_path(city: str, year: int, month: int, day: int) -> str:
    """Hive-style partition folder, month and day unpadded: `city=x/year=2019/month=6/day=1`."""
    return f"{city_folder(city)}/year={year}/month={month}/day={day}"
