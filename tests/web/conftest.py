"""Fixtures of the console and API tests.

- `quiet_lake` / `quiet_web`: a fresh lake home of its own and the console over it. Its
  executions only ever fail at Validate (a Lambda run in-process), so no Spark starts.
- `spark_lake` / `spark_web`: the test session's lake home (tests/conftest.py `lake_home`),
  whose executions run the whole workflow on the shared SparkSession. Run these under the
  Spark lock: `flock /tmp/movement-lake-spark.lock .venv/bin/pytest tests/web`.
- `browser`: Debian's Chromium, headless, driven by Selenium through chromium-driver; the test
  is skipped, saying how to install them, where they are missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lake.home import LakeHome
from lake.runtime import Lake
from lake.ui.web import start_web

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


@pytest.fixture
def quiet_lake(tmp_path, monkeypatch):
    for name in ("LAKE_SMTP_HOST", "LAKE_SMTP_PORT", "LAKE_ALERT_EMAIL", "LAKE_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    lake = Lake(LakeHome(tmp_path / "lake").ensure(), time_scale=0.001)
    yield lake
    lake.close()


@pytest.fixture
def quiet_web(quiet_lake):
    web = start_web(quiet_lake)
    yield web
    web.close()


@pytest.fixture
def spark_lake(lake_home):
    lake = Lake(lake_home, time_scale=0.001)
    yield lake
    lake.close()


@pytest.fixture
def spark_web(spark_lake):
    web = start_web(spark_lake)
    yield web
    web.close()


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "the browser tests need Debian's Chromium and its driver: "
            "apt-get install -y chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to read CSP refusals
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
