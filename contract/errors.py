"""Every way the contract refuses a file or a value, named once.

Step Functions records a Lambda failure under the exception's class name and a Glue run's error
message starts with it, so each class name is what an operator reads as the error. Every
`FileRejected` means the file itself breaks the contract: retrying cannot help (the workflow's
Retry lists none of these names, the alert says "fix the file and upload it again"). Each message
names the file, says what is wrong and how to fix it."""

from __future__ import annotations


class ContractViolation(ValueError):
    """A source file, key or value breaks the data contract."""


class InvalidDateRange(ContractViolation):
    """A `Date Range` value is not `M/D/YYYY - M/D/YYYY[, <days>, <time of day>]` (a row's
    fault, not the file's: such a row is set aside with the reason `bad_date_range`)."""


class FileRejected(ContractViolation):
    """The uploaded file breaks the data contract; the fix is a corrected upload to the same
    key."""


class InvalidEvent(FileRejected):
    """The input is not an S3 "Object Created" event as EventBridge delivers it."""


class FileNotFound(FileRejected):
    """The object was deleted or renamed between its upload and its validation."""


class InvalidSourceKey(FileRejected):
    """The object key does not follow `travel_times/<city>/<file name>.csv[.gz]`."""


class EmptyFile(FileRejected):
    """The object (or the file inside the gzip) has no bytes, or nothing but blank lines."""


class NotGzip(FileRejected):
    """The key ends `.gz` but the bytes are not a valid gzip stream."""


class NotUtf8(FileRejected):
    """The text is not UTF-8 (or is compressed without a `.gz` suffix)."""


class MissingColumns(FileRejected):
    """The header lacks one or more of the required columns."""


class UnsupportedProduct(FileRejected):
    """The header is a Movement product the lake recognises and does not take (a comparison
    export, a bulk aggregate, speeds)."""


class CityMismatch(FileRejected):
    """The file's `city` column names another city than its folder."""


class TooManyColumns(FileRejected):
    """The header has more columns than one run parses safely."""


class FieldTooLarge(FileRejected):
    """A single field is larger than one run parses safely."""


class InflatesTooLarge(FileRejected):
    """A gzip file inflates past the configured bound (a "gzip bomb", or an export to split)."""


class NoDataRows(FileRejected):
    """The file has a header but no data rows."""


class RowsRejected(FileRejected):
    """Every row sampled from the head of the file breaks the contract: the whole file is
    systematically wrong (e.g. another date format), so the Glue job is not started."""


class TooManyRejects(FileRejected):
    """More than the allowed share of the file's rows, or all of them, break the contract."""


def _names(base: type) -> frozenset[str]:
    found: set[str] = set()
    for cls in base.__subclasses__():
        found |= {cls.__name__, *_names(cls)}
    return frozenset(found)


# The error names that mean "fix the file, do not redrive" (the validator's and the job's).
FILE_FAULTS: frozenset[str] = _names(FileRejected)
