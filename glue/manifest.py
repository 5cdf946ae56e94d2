"""The manifest of one run: what it read, wrote, set aside and emptied, and the statements that
register its partitions, written beside it in the curated bucket:

    manifests/<execution>/manifest.json       everything (the partitions one by one)
    manifests/<execution>/register-0001.sql   ALTER TABLE ... ADD IF NOT EXISTS PARTITION, in
                                              statements well under Athena's query-length limit
    manifests/<execution>/summary.json        counts and the statements' keys: what the workflow
                                              carries between states (written last)

However many partitions a file touches, the summary stays a few hundred bytes, far below Step
Functions' 256 KiB per state (the statements are read one at a time by a Map state)."""

from __future__ import annotations

import datetime as dt
import json

from contract.manifest import RowCounts
from contract.table import register_partitions_statements
from glue.arguments import JobArguments
from glue.object_store import ObjectStore, join
from glue.partition import Partition
from glue.publish import Publication

SUMMARY = "summary.json"


def build_manifest(
    args: JobArguments,
    run_id: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    counts: RowCounts,
    source_format: str | None,
    partition_rows: dict[Partition, int],
    partition_files: dict[Partition, int],
    publication: Publication,
) -> dict:
    """The manifest as a JSON-ready dict (partitions sorted; counts for every reject reason)."""
    written = sorted(partition_rows)
    return {
        "source_key": args.source_key,
        "source_path": args.source_path,
        "source_format": source_format,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "database": args.database,
        "table": args.table,
        "rows": counts.as_json(),
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
        # A run of an older upload than the table's (or the key's) publishes nothing.
        "superseded_by": publication.superseded_by,
    }


def _bucket_key(curated: str, uri: str) -> str:
    """`uri` as a key of the curated bucket (the workflow reads the statements by key)."""
    root = curated.rstrip("/") + "/"
    if not uri.startswith(root):
        raise ValueError(f"the manifest {uri} is not in the curated bucket {root}")
    return uri[len(root) :]


def write_manifest(
    storage: ObjectStore, uri: str, curated: str, manifest: dict, database: str, table: str
) -> dict:
    """Write the manifest at `uri` (in the `curated` bucket), its registration statements and,
    last, its summary (replacing any earlier ones of the same execution: a redrive runs the job
    again); return the summary."""
    folder = uri.rsplit("/", 1)[0]
    storage.write_text(uri, json.dumps(manifest, indent=2, ensure_ascii=False))
    partitions = [
        {k: p[k] for k in ("city", "year", "month", "day")} for p in manifest["partitions_written"]
    ]
    keys = []
    for number, statement in enumerate(
        register_partitions_statements(database, table, partitions), 1
    ):
        statement_uri = join(folder, f"register-{number:04d}.sql")
        storage.write_text(statement_uri, statement)
        keys.append(_bucket_key(curated, statement_uri))
    summary = {
        "source_key": manifest["source_key"],
        "source_format": manifest.get("source_format"),
        "run_id": manifest["run_id"],
        "rows": manifest["rows"],
        "partitions_written": len(manifest["partitions_written"]),
        "partitions_emptied": len(manifest["partitions_emptied"]),
        "superseded_by": manifest.get("superseded_by"),
        "manifest": _bucket_key(curated, uri),
        "register_statements": keys,
    }
    storage.write_text(join(folder, SUMMARY), json.dumps(summary, indent=2, ensure_ascii=False))
    return summary
