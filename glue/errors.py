"""Errors of the Glue job that are not the file's fault (those are in `contract.errors`)."""


class PublishLockTimeout(RuntimeError):
    """Another run of the same source key kept its publish lock for too long."""


class LeaseLost(RuntimeError):
    """A run's publish lock was broken as stale while it published (it stops before its commit)."""
