"""Helpers of the console and API tests: real clients (boto3, raw HTTP) against a `start_web`
server, files that fail or pass the workflow, waiting for executions, and a check of a response
against botocore's own Step Functions shapes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import urllib3
from botocore.model import Shape

from lake.runtime import ExecutionRecord, Lake
from lake.ui.generate import generate
from lake.ui.web.sfn_model import operation_model

REGION = "eu-west-1"  # a client's region need not be the lake's: ARNs come from the server
http = urllib3.PoolManager(retries=False, timeout=30)


def sfn_client(url: str, access_key: str = "anything"):
    """boto3's Step Functions client for the server at `url`, as a script written for AWS would
    make it with only `endpoint_url` changed."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="anything",
    )


def api_call(url: str, operation: str, body: Any, **headers: str) -> urllib3.BaseHTTPResponse:
    """A raw JSON 1.0 call (what botocore sends, minus the signature)."""
    return http.request(
        "POST",
        url,
        body=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"AWSStepFunctions.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            **headers,
        },
    )


def assert_matches_shape(value: Any, shape: Shape, where: str = "response") -> None:
    """`value` (a JSON 1.0 response, as sent) fits `shape`: required members present, no
    member the shape does not declare, types, enums and length limits respected."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{where}: missing required member(s) {sorted(missing)}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: member(s) {sorted(unknown)} not in shape {shape.name}"
        for name, member in value.items():
            assert_matches_shape(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{where}: expected a list"
        for i, item in enumerate(value):
            assert_matches_shape(item, shape.member, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), f"{where}: expected a string, got {value!r}"
        if getattr(shape, "enum", None):
            assert value in shape.enum, f"{where}: {value!r} not in {shape.enum}"
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
        assert len(value) >= low and (high is None or len(value) <= high), f"{where}: length"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: not an int"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: not a boolean"
    elif kind == "timestamp":  # JSON 1.0: epoch seconds
        assert isinstance(value, int | float) and value > 1e9, f"{where}: not epoch seconds"


def assert_response_fits(operation: str, response: urllib3.BaseHTTPResponse) -> dict:
    """A raw API response: HTTP 200, JSON 1.0, fitting the operation's output shape."""
    assert response.status == 200, response.data
    assert response.headers["Content-Type"] == "application/x-amz-json-1.0"
    body = json.loads(response.data)
    assert_matches_shape(body, operation_model(operation).output_shape, operation)
    return body


def wait_for(condition: Callable[[], Any], timeout: float = 240, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy (and return it), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def finished(lake: Lake, name: str, timeout: float = 240) -> ExecutionRecord:
    """The execution's record once it has ended."""
    return wait_for(
        lambda: (record := lake.execution(name)).finished and record,
        timeout,
        f"execution {name} to end",
    )


def latin1_export(path: Path, rows: int = 20) -> Path:
    """An export saved as Latin-1: fails at Validate (NotUtf8) without any Spark work."""
    generate(path, rows=rows, seed=3, city="bogota", zones=20, date_ranges=2)
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    return path


def good_export(path: Path, rows: int = 60, seed: int = 1) -> Path:
    """A small valid export: goes through the whole workflow (Spark)."""
    generate(path, rows=rows, seed=seed, city="bogota", zones=20, date_ranges=2)
    return path


def block_staging(lake: Lake) -> Path:
    """A file where the Glue job's staging folder must be: the next Transform fails (not the
    file's fault), and succeeds once the file is removed (tests/events/record_histories.py)."""
    curated = lake.home.bucket_path(lake.home.settings.curated_bucket)
    curated.mkdir(parents=True, exist_ok=True)
    blocker = curated / "_staging"
    blocker.write_text("a file where the job's staging folder must be\n")
    return blocker


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a console page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browserless:
    """A console session without a browser: cookies kept, forms posted with their CSRF token
    (the real server, real HTTP)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = http.request(method, self.url + path, headers=headers, redirect=False, **kwargs)
        for cookie in response.headers.getlist("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response

    def get(self, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        return self.request("GET", path, **kwargs)

    def submit(self, page: str, action: str, fields: dict[str, Any] | None = None, **kwargs):
        """Open `page`, then post its form to `action` with the page's CSRF token."""
        token = csrf_token(self.get(page).data.decode())
        return self.request(
            "POST", action, fields={"csrf_token": token, **(fields or {})}, **kwargs
        )

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status == 200, (response.status, response.data[:500])
        return response.data.decode()
