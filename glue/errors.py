"""Named errors of the Glue job. Each message names the file, says what is wrong and what to do;
on AWS it becomes the job run's error message, which the workflow's alert quotes."""

from contract.errors import ContractViolation


class TooManyRejects(ContractViolation):
    """More than the allowed share of the file's rows, or all of them, break the contract."""


class PublishLockTimeout(RuntimeError):
    """Another run of the same source key kept its publish lock for too long."""
