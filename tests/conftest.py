"""Shared fixtures. ONE SparkSession for the whole test session (JVM start-up is the slow part)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# The suite runs `lake` in-process on its one shared SparkSession: no command may start a
# background engine (a second JVM on the same catalog). The tests of the background engine run
# `lake` in subprocesses with this variable removed.
os.environ.setdefault("LAKE_NO_DAEMON", "1")

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict:
    """A real-shaped event payload from tests/events/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory) -> Path:
    """The folder of the test session's Spark catalog. A JVM's Derby metastore location is fixed
    when the session starts, so the end-to-end tests use this folder as their lake home."""
    return tmp_path_factory.mktemp("spark-home")


@pytest.fixture(scope="session")
def spark(spark_home):
    """The one local SparkSession of this test session, configured like the local runtime's."""
    from lake.aws.spark import local_spark_session

    session = local_spark_session(spark_home, app_name="movement-lake-tests", shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture
def lake_home(spark, spark_home, monkeypatch):
    """A clean lake home for one end-to-end test. All e2e tests share the test session's Spark
    catalog folder (a JVM's Derby location is fixed), so each starts from empty buckets, an
    empty execution database and outbox, and no table (the engine creates it again)."""
    import shutil

    from lake.home import LakeHome

    home = LakeHome(spark_home)
    spark.sql(f"DROP TABLE IF EXISTS `{home.settings.database}`.`{home.settings.table}`")
    for folder in (home.buckets, home.logs, home.outbox):
        shutil.rmtree(folder, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home.db_path}{suffix}").unlink(missing_ok=True)
    monkeypatch.setenv("LAKE_HOME", str(spark_home))
    monkeypatch.setenv("LAKE_TIME_SCALE", "0.001")  # Retry waits in milliseconds
    for name in ("LAKE_SMTP_HOST", "LAKE_SMTP_PORT", "LAKE_ALERT_EMAIL", "LAKE_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    return home.ensure()
