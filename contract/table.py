"""The catalog SQL for the `travel_times` table, in Athena's DDL (also run verbatim locally)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from contract.columns import DATA_COLUMNS, PARTITION_COLUMNS


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """A Hive DDL string literal (Athena DDL and Spark SQL both take backslash escapes), escaped
    so that no value can end the literal early."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _partition_value(athena_type: str, value: object) -> str:
    return quote_string(str(value)) if athena_type == "string" else str(int(value))  # type: ignore[call-overload]


def create_table_sql(database: str, table: str, location: str) -> str:
    """CREATE EXTERNAL TABLE for the contract's columns, partitions and Parquet storage."""
    cols = ",\n  ".join(
        f"{quote_identifier(col.name)} {col.athena_type} COMMENT {quote_string(col.comment)}"
        for col in DATA_COLUMNS
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


def register_partitions_sql(
    database: str, table: str, partitions: Iterable[Mapping[str, object]]
) -> str:
    """One `ALTER TABLE ... ADD IF NOT EXISTS PARTITION ...` statement for the given partitions
    (each a mapping city/year/month/day). Locations follow the table's Hive-style default."""
    specs = []
    for p in partitions:
        values = ", ".join(
            f"{col.name}={_partition_value(col.athena_type, p[col.name])}"
            for col in PARTITION_COLUMNS
        )
        specs.append(f"PARTITION ({values})")
    if not specs:
        raise ValueError("no partitions to register")
    return (
        f"ALTER TABLE {quote_identifier(database)}.{quote_identifier(table)} ADD IF NOT EXISTS\n  "
        + "\n  ".join(specs)
    )
