"""Shared fixtures. ONE SparkSession for the whole test session (JVM start-up is the slow part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict:
    """A real-shaped event payload from tests/events/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The one local SparkSession of this test session, configured like the local runtime's."""
    from lake.spark import local_spark_session

    home = tmp_path_factory.mktemp("spark-home")
    session = local_spark_session(home, app_name="movement-lake-tests", shuffle_partitions=4)
    yield session
    session.stop()
