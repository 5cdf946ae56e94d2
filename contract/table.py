"""The catalog SQL for the `travel_times` table, in Athena's DDL (also run verbatim locally)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from contract.columns import DATA_COLUMNS, PARTITION_COLUMNS, TableColumn
from contract.limits import REGISTER_STATEMENT_BYTES


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """A Hive DDL string literal (Athena DDL and Spark SQL both take backslash escapes), escaped
    so that no value can end the literal early."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _partition_value(athena_type: str, value: object) -> str:
    return quote_string(str(value)) if athena_type == "string" else str(int(value))  # type: ignore[call-overload]


def create_table_sql(
    database: str, table: str, location: str, columns: Iterable[TableColumn] = DATA_COLUMNS
) -> str:
    """CREATE EXTERNAL TABLE for the contract's columns (or `columns`), partitions and Parquet
    storage."""
    cols = ",\n  ".join(
        f"{quote_identifier(col.name)} {col.athena_type} COMMENT {quote_string(col.comment)}"
        for col in columns
    )
    parts = ", ".join(f"{quote_identifier(p.name)} {p.athena_type}" for p in PARTITION_COLUMNS)
    return (
        "CREATE EXTERNAL TABLE IF NOT EXISTS "
        f"{quote_identifier(database)}.{quote_identifier(table)} (\n"
        f"  {cols}\n)\n"
        f"PARTITIONED BY ({parts})\n"
        "STORED AS PARQUET\n"
        f"LOCATION {quote_string(location)}\n"
        "TBLPROPERTIES ('parquet.compression'='SNAPPY')"
    )


def _partition_spec(partition: Mapping[str, object]) -> str:
    values = ", ".join(
        f"{col.name}={_partition_value(col.athena_type, partition[col.name])}"
        for col in PARTITION_COLUMNS
    )
    return f"PARTITION ({values})"


def register_partitions_sql(
    database: str, table: str, partitions: Iterable[Mapping[str, object]]
) -> str:
    """One `ALTER TABLE ... ADD IF NOT EXISTS PARTITION ...` statement for the given partitions
    (each a mapping city/year/month/day). Locations follow the table's Hive-style default."""
    specs = [_partition_spec(p) for p in partitions]
    if not specs:
        raise ValueError("no partitions to register")
    return (
        f"ALTER TABLE {quote_identifier(database)}.{quote_identifier(table)} ADD IF NOT EXISTS\n  "
        + "\n  ".join(specs)
    )


def register_partitions_statements(
    database: str,
    table: str,
    partitions: Iterable[Mapping[str, object]],
    max_bytes: int = REGISTER_STATEMENT_BYTES,
) -> list[str]:
    """The partitions registered in as few statements as fit `max_bytes` each (UTF-8), so that
    however many partitions a file touches, no statement nears Athena's query-length limit."""
    head = f"ALTER TABLE {quote_identifier(database)}.{quote_identifier(table)} ADD IF NOT EXISTS"
    statements: list[str] = []
    specs: list[str] = []
    size = len(head.encode())
    for spec in map(_partition_spec, partitions):
        spec_size = len(spec.encode()) + 3  # "\n  " before it
        if specs and size + spec_size > max_bytes:
            statements.append(head + "\n  " + "\n  ".join(specs))
            specs, size = [], len(head.encode())
        specs.append(spec)
        size += spec_size
    if specs:
        statements.append(head + "\n  " + "\n  ".join(specs))
    return statements


def add_columns_sql(database: str, table: str, columns: Iterable[TableColumn]) -> str:
    """`ALTER TABLE ... ADD COLUMNS (...)`: how a lake made by an older version gains the
    contract's newer columns in place (Athena DDL; nullable; old files read them as null)."""
    cols = ", ".join(
        f"{quote_identifier(col.name)} {col.athena_type} COMMENT {quote_string(col.comment)}"
        for col in columns
    )
    name = f"{quote_identifier(database)}.{quote_identifier(table)}"
    return f"ALTER TABLE {name} ADD COLUMNS ({cols})"
