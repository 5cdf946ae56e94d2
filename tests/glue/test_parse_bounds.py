"""The parser's bounds failures are the file's rejection even when the JVM drops their message:
after many throws at one site HotSpot raises a preallocated exception without one (seen in the
full suite, where earlier hostile files had already hit the bound)."""

from __future__ import annotations

import pytest

from contract import errors
from glue.read import parse_bounds

KEY = "travel_times/bogota/wide.csv"


def spark_failure(message: str, column: int) -> Exception:
    """The text of Spark's failure as py4j shows it (abridged to the parts that matter)."""
    return RuntimeError(
        "Job aborted due to stage failure: Lost task 0.0 in stage 522.0: "
        f"com.univocity.parsers.common.TextParsingException: "
        f"java.lang.ArrayIndexOutOfBoundsException - {message}\n"
        "Parser Configuration: CsvParserSettings:\n\tMaximum number of columns=1001\n"
        f"Internal state when error was thrown: line=6, column={column}, record=6, "
        "charIndex=2778, headers=[Origin Movement ID]"
    )


@pytest.mark.parametrize(
    ("message", "column", "rejection"),
    [
        ("Index 1001 out of bounds for length 1001", 1001, errors.TooManyColumns),
        ("null", 1002, errors.TooManyColumns),
        ("Index 1048576 out of bounds for length 1048576", 3, errors.FieldTooLarge),
        ("null", 3, errors.FieldTooLarge),
    ],
)
def test_a_bound_is_named_with_or_without_the_jvms_message(message, column, rejection):
    with pytest.raises(rejection, match="Fix the file and upload it again"), parse_bounds(KEY):
        raise spark_failure(message, column)


def test_any_other_failure_is_left_alone():
    with pytest.raises(ValueError, match="disk full"), parse_bounds(KEY):
        raise ValueError("disk full")
