"""The runnable example of lake/asl/README.md keeps running."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "lake" / "asl" / "README.md"


def test_the_readme_example_runs_and_prints_what_it_says():
    example = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, str(README), "exec"), {})
    assert printed.getvalue().splitlines()[0] == "SUCCEEDED [{'rows': 5}, {'rows': 6}]"
