"""What one run of the job reports about the rows of its file, keyed once for everyone: the job
writes it into its manifest (`rows`), the workflow carries it, the faces and the alert read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contract.columns import REJECT_REASONS


@dataclass(frozen=True)
class RowCounts:
    """Rows of one file: `read` (data rows, duplicates included), `duplicate_rows` (exact
    duplicates of another row, written once), `no_measurement` (rows or daily periods without a
    mean: not written, not rejected), `written` (rows in the table) and `rejected` by reason."""

    read: int = 0
    duplicate_rows: int = 0
    no_measurement: int = 0
    written: int = 0
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "duplicate_rows": self.duplicate_rows,
            "no_measurement": self.no_measurement,
            "written": self.written,
            "rejected": self.rejected,
            "rejected_by_reason": {r: self.rejected_by_reason.get(r, 0) for r in REJECT_REASONS},
        }

    @classmethod
    def from_json(cls, rows: Mapping[str, Any] | None) -> RowCounts:
        rows = rows or {}
        return cls(
            read=int(rows.get("read") or 0),
            duplicate_rows=int(rows.get("duplicate_rows") or 0),
            no_measurement=int(rows.get("no_measurement") or 0),
            written=int(rows.get("written") or 0),
            rejected_by_reason=dict(rows.get("rejected_by_reason") or {}),
        )
