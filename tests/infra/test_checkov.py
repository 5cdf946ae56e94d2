"""checkov, the scanner most teams run over a CloudFormation template, finds nothing in ours: every
check passes or is skipped on its resource with a reason, and the README's "Security" section
lists every skip. checkov runs offline from its own virtualenv (`make tools`; `make test` makes
it), on the template of the session's one synthesis."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from functools import cache
from typing import Any

import pytest
from infra_support import synthesized

from settings import PROJECT_ROOT

pytestmark = pytest.mark.infra

CHECKOV = PROJECT_ROOT / ".venv-tools" / "bin" / "checkov"


def pinned_version() -> str:
    groups = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["dependency-groups"]
    (pin,) = [p for p in groups["tools"] if p.startswith("checkov==")]
    return pin.split("==")[1]


@cache
def report() -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make tools` (`make test` installs it too)")
    synth = synthesized()
    template = synth.outdir / synth.stack.template_file
    run = subprocess.run(
        [
            str(CHECKOV),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
            "--file",
            str(template),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.stdout, run.stderr
    return json.loads(run.stdout)


def test_checkov_is_the_pinned_version():
    assert report()["summary"]["checkov_version"] == pinned_version()


def test_checkov_reports_no_failed_check_and_no_parsing_error():
    summary = report()["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report()["results"]["failed_checks"]
    ]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 100  # the scan really read the stack's resources


def skipped() -> list[dict[str, Any]]:
    return report()["results"]["skipped_checks"]


def test_every_skip_carries_its_reason():
    for check in skipped():
        reason = check["check_result"]["suppress_comment"]
        assert len(reason) >= 60, (check["check_id"], check["resource"], reason)


def readme_security_section() -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"^### Security\n(.*?)(?=^#{2,3} )", text, re.S | re.M)
    assert match, "README.md has no '### Security' section"
    return match.group(1)


def test_the_readme_lists_every_skip():
    section = readme_security_section()
    for check in skipped():
        assert check["check_id"] in section, check["check_id"]
    listed = set(re.findall(r"CKV2?_AWS_\d+", section))
    assert listed == {c["check_id"] for c in skipped()}, "README lists a skip the stack lacks"
