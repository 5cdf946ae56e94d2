"""Export rows for the tests: one valid logical row (shared by the Python and the Spark tests of
the contract's rules), the repository's hand-written fixtures of every format, and what the
contract's Python rules say a whole file must give (the expectation the job's table is held to)."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from contract import columns as c
from contract import formats
from contract.values import reject_reason

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
REAL = Path(__file__).resolve().parents[2] / "shared" / "real"  # the acceptance data, if present

VALID_ROW: dict[str, str | None] = {
    c.ORIGIN_ID: "2922",
    c.ORIGIN_NAME: 'Rua "Augusta", São Paulo',
    c.DESTINATION_ID: "9",
    c.DESTINATION_NAME: "Movement Zone 9",
    c.DATE_RANGE: "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
    c.MEAN_TRAVEL_TIME: "2164",
    c.LOWER_TRAVEL_TIME: "1666",
    c.UPPER_TRAVEL_TIME: "2809",
}


def valid_row(changes: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """VALID_ROW with some values replaced (keys are contract.columns' logical fields)."""
    return {**VALID_ROW, **(changes or {})}


@dataclass(frozen=True)
class Expected:
    """What a file must give, read with the contract's Python rules."""

    format: str
    read: int  # data rows
    duplicate_rows: int
    verdicts: Counter  # of the distinct rows' logical rows: reasons, no_measurement, valid
    mean_sum: float  # of the valid rows' means

    @property
    def written(self) -> int:
        return self.verdicts["valid"]


def expected(path: Path) -> Expected:
    """Read an export as the contract says (csv, the format's declaration, the row rules)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    recognised = formats.recognise(header)
    distinct = list(dict.fromkeys(map(tuple, rows)))
    verdicts: Counter = Counter()
    total = 0.0
    for row in distinct:
        if len(row) != len(header):
            verdicts[c.MALFORMED_ROW] += 1
            continue
        for logical in formats.logical_rows(recognised, list(row)):
            verdict = reject_reason(logical, recognised.format.single_date)
            verdicts[verdict or "valid"] += 1
            if verdict is None:
                total += float(logical[c.MEAN_TRAVEL_TIME])
    return Expected(recognised.format.name, len(rows), len(rows) - len(distinct), verdicts, total)
