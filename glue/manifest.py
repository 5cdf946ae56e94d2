"""The manifest of one run: what it read, wrote, set aside and emptied, and the SQL that
registers its partitions (the workflow runs that string in Athena as it is)."""

from __future__ import annotations

import datetime as dt
import json

from contract.columns import REJECT_REASONS
from contract.table import register_partitions_sql
from glue.arguments import JobArguments
from glue.partition import Partition
from glue.publish import Publication
from glue.storage import Storage, join


def build_manifest(
    args: JobArguments,
    run_id: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    rows_by_reason: dict[str, int],
    rows_read: int,
    partition_rows: dict[Partition, int],
    partition_files: dict[Partition, int],
    publication: Publication,
) -> dict:
    """The manifest as a JSON-ready dict (partitions sorted; counts for every reject reason)."""
    written = sorted(partition_rows)
    return {
        "source_key": args.source_key,
        "source_path": args.source_path,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "database": args.database,
        "table": args.table,
        "rows": {
            "read": rows_read,
            "written": sum(partition_rows.values()),
            "rejected": sum(rows_by_reason.values()),
            "rejected_by_reason": {
                reason: rows_by_reason.get(reason, 0) for reason in REJECT_REASONS
            },
        },
        "partitions_written": [
            {**p.as_dict(), "rows": partition_rows[p], "files": partition_files.get(p, 0)}
            for p in written
        ],
        "partitions_emptied": [p.as_dict() for p in publication.partitions_emptied],
        "previous_run_id": publication.previous_run_id,
        "table_files": len(publication.files),
        "removed_files": len(publication.removed),
        "rejects_path": publication.rejects_path,
        "table_path": join(args.curated_path, "travel_times") + "/",
        "register_partitions_sql": register_partitions_sql(
            args.database, args.table, [p.as_dict() for p in written]
        ),
    }


def write_manifest(storage: Storage, uri: str, manifest: dict) -> None:
    """Write the manifest JSON at `uri` (replacing any earlier one)."""
    storage.write_text(uri, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
