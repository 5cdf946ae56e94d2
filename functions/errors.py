"""Named errors of the validate handler. Step Functions records a Lambda failure under the
exception's class name, so each name is what an operator sees as the failed state's error.

Every `RejectedFile` means the file itself breaks the data contract: retrying cannot help, so the
workflow's Retry lists none of these names; the fix is a corrected upload to the same key."""

from __future__ import annotations

from contract import errors as contract_errors


class RejectedFile(contract_errors.ContractViolation):
    """The uploaded file breaks the data contract. The message names the file, what is wrong and
    how to fix it."""


class InvalidEvent(RejectedFile):
    """The input is not an S3 "Object Created" event as EventBridge delivers it."""


class FileNotFound(RejectedFile):
    """The object was deleted or renamed between its upload and its validation."""


class InvalidSourceKey(RejectedFile, contract_errors.InvalidSourceKey):
    """The object key does not follow `travel_times/<city>/<file name>.csv[.gz]`."""


class EmptyFile(RejectedFile):
    """The object (or the file inside the gzip) has no bytes, or nothing but blank lines."""


class NotGzip(RejectedFile):
    """The key ends `.gz` but the bytes are not a valid gzip stream."""


class NotUtf8(RejectedFile):
    """The text is not UTF-8 (or is compressed without a `.gz` suffix)."""


class MissingColumns(RejectedFile, contract_errors.MissingColumns):
    """The header lacks one or more of the required columns."""


class NoDataRows(RejectedFile):
    """The file has a header but no data rows."""


class RowsRejected(RejectedFile):
    """Every row sampled from the head of the file breaks the contract: the whole file is
    systematically wrong (e.g. another date format), so the Glue job is not started."""


# The names the alert recognises as "fix the file, do not redrive".
REJECTION_NAMES: frozenset[str] = frozenset(
    cls.__name__
    for cls in (
        InvalidEvent,
        FileNotFound,
        InvalidSourceKey,
        EmptyFile,
        NotGzip,
        NotUtf8,
        MissingColumns,
        NoDataRows,
        RowsRejected,
    )
)
