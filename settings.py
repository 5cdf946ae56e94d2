"""One reader of the project's configuration: the `context` of cdk.json, used by the CDK app and
by the local runtime alike, so that local resource names mirror the deployed stack's.
Precedence: an explicit argument beats CDK context (`cdk -c key=value`), which beats cdk.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from contract.columns import DEFAULT_DATABASE, DEFAULT_REJECT_THRESHOLD, TABLE_NAME
from contract.limits import DEFAULT_MAX_INFLATED_BYTES

PROJECT_ROOT = Path(__file__).resolve().parent
CDK_JSON = PROJECT_ROOT / "cdk.json"
STATE_MACHINE_FILE = PROJECT_ROOT / "state_machines" / "ingest_travel_times.asl.json"
BACKFILL_STATE_MACHINE_FILE = PROJECT_ROOT / "state_machines" / "backfill_travel_times.asl.json"
GLUE_SCRIPT = PROJECT_ROOT / "glue" / "ingest_travel_times.py"


@dataclass(frozen=True)
class Settings:
    name_prefix: str = "movement-lake"
    alert_email: str = ""
    database: str = DEFAULT_DATABASE
    table: str = TABLE_NAME
    glue_worker_type: str = "G.1X"
    glue_number_of_workers: int = 2
    glue_timeout_minutes: int = 60
    glue_max_concurrent_runs: int = 10
    reject_threshold: float = DEFAULT_REJECT_THRESHOLD
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES
    log_retention_days: int = 30
    athena_bytes_scanned_cutoff_per_query: int = 10 * 1024**3
    curated_noncurrent_version_days: int = 30
    validate_reserved_concurrency: int = 20
    alert_reserved_concurrency: int = 5

    # Resource names shared by the stack and the local runtime (buckets get an account/region
    # suffix in AWS, where bucket names are global).
    @property
    def raw_bucket(self) -> str:
        return f"{self.name_prefix}-raw"

    @property
    def curated_bucket(self) -> str:
        return f"{self.name_prefix}-curated"

    @property
    def athena_results_bucket(self) -> str:
        return f"{self.name_prefix}-athena-results"

    @property
    def state_machine_name(self) -> str:
        return f"{self.name_prefix}-ingest"

    @property
    def backfill_state_machine_name(self) -> str:
        """The backfill workflow: a Distributed Map that starts the ingest one per raw file."""
        return f"{self.name_prefix}-backfill"

    @property
    def validate_function_name(self) -> str:
        return f"{self.name_prefix}-validate"

    @property
    def alert_function_name(self) -> str:
        return f"{self.name_prefix}-alert"

    @property
    def transform_job_name(self) -> str:
        return f"{self.name_prefix}-transform"

    @property
    def athena_workgroup(self) -> str:
        return f"{self.name_prefix}"

    @property
    def alert_topic_name(self) -> str:
        return f"{self.name_prefix}-alerts"

    def job_arguments(self, curated_bucket: str) -> dict[str, str]:
        """The Glue job's own default arguments (glue/arguments.py), in the stack and locally."""
        return {
            "--curated_path": f"s3://{curated_bucket}/",
            "--database": self.database,
            "--table": self.table,
            "--reject_threshold": str(self.reject_threshold),
            "--max_inflated_bytes": str(self.max_inflated_bytes),
        }


# cdk.json context key -> Settings field
_CONTEXT_KEYS = {
    "namePrefix": "name_prefix",
    "alertEmail": "alert_email",
    "database": "database",
    "glueWorkerType": "glue_worker_type",
    "glueNumberOfWorkers": "glue_number_of_workers",
    "glueTimeoutMinutes": "glue_timeout_minutes",
    "glueMaxConcurrentRuns": "glue_max_concurrent_runs",
    "rejectThreshold": "reject_threshold",
    "maxInflatedBytes": "max_inflated_bytes",
    "logRetentionDays": "log_retention_days",
    "athenaBytesScannedCutoffPerQuery": "athena_bytes_scanned_cutoff_per_query",
    "curatedNoncurrentVersionDays": "curated_noncurrent_version_days",
    "validateReservedConcurrency": "validate_reserved_concurrency",
    "alertReservedConcurrency": "alert_reserved_concurrency",
}


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    return json.loads(path.read_text())["context"] if path.exists() else {}


def load_settings(context: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings from cdk.json's context, then `context` (e.g. `cdk -c`), then explicit overrides.
    Values given as strings on a command line are converted to the field's type."""
    merged = {**cdk_json_context(), **(context or {})}
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, field_name in _CONTEXT_KEYS.items():
        if merged.get(key) is not None:
            values[field_name] = merged[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - set(types)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    converters = {"int": int, "float": float, "str": str}
    return Settings(**{k: converters[types[k]](v) for k, v in values.items()})  # type: ignore[index]
