"""The local SQL engine that plays Athena: Spark SQL on the warm Hive-enabled session, whose
persistent catalog (a Derby metastore in the lake home) runs Athena's DDL verbatim.

Each query gets `spark.newSession()`: it shares the catalog and the warm JVM but has its own
current database, so one query's `Database` never leaks into another's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class QueryOutcome:
    """What one query returned: column names and rows (empty for DDL)."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)


def run_sql(spark: Any, sql: str, database: str | None = None) -> QueryOutcome:
    """Run one statement on a fresh session of the shared SparkContext and collect its rows."""
    session = spark.newSession()
    if database:
        session.catalog.setCurrentDatabase(database)
    frame = session.sql(sql)
    columns = list(frame.columns)
    rows = [tuple(row) for row in frame.collect()] if columns else []
    return QueryOutcome(columns, rows)


def error_reason(error: BaseException) -> str:
    """An error in one line: Spark's AnalysisException carries a JVM stack after its first
    line; the interpreter's refusals carry AWS's reason."""
    text = getattr(error, "reason", None) or getattr(error, "desc", None) or str(error)
    text = str(text).strip()
    return text.splitlines()[0] if text else type(error).__name__
