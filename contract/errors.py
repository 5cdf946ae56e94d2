"""Named errors for files that break the data contract.

Each message says what is wrong and how to fix it."""


class ContractViolation(ValueError):
    """A source file, key or value breaks the data contract."""


class InvalidSourceKey(ContractViolation):
    """The object key does not follow `travel_times/<city>/<file name>.csv[.gz]`."""


class MissingColumns(ContractViolation):
    """The header lacks one or more of the required columns."""


class InvalidDateRange(ContractViolation):
    """A `Date Range` value is not `M/D/YYYY - M/D/YYYY[, <days>, <time of day>]`."""
