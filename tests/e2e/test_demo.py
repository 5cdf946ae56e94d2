"""`lake demo` (what `make run` runs): from nothing to a queried lake, in words."""

from __future__ import annotations

import pytest
from e2e_support import lake

pytestmark = pytest.mark.e2e


def test_the_demo_ingests_an_export_answers_a_question_and_says_what_next(lake_home, capsys):
    status, out, err = lake(capsys, "demo", "--rows", "400", "--daily-rows", "60")
    assert status == 0, err
    assert "is in the lake" in out
    # the question is answered from the table: ten slowest pairs, and the slowest in words
    assert "10 row(s)" in out
    assert "The slowest trip that day:" in out
    # a second file, in the Travel Times Daily format, lands in the same table, asked by period
    assert "4. Another real format" in out
    assert "AM Peak" in out.split("4. Another real format", 1)[1]
    # and the newcomer is told what to try next, with commands that exist
    for command in ("executions", "describe", "query", "upload", "alerts", "watch"):
        assert f" {command}" in out.split("What to try next", 1)[1]
