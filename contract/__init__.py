"""The data contract of movement-lake: ONE module read by the validator Lambda, the Glue job,
the local runtime, the generator and the tests (see data-contract.md)."""

from contract import columns, layout, table, values
from contract.errors import ContractViolation, InvalidDateRange, InvalidSourceKey, MissingColumns

__all__ = [
    "ContractViolation",
    "InvalidDateRange",
    "InvalidSourceKey",
    "MissingColumns",
    "columns",
    "layout",
    "table",
    "values",
]
