"""`arn:aws:states:::athena:startQueryExecution.sync` played locally: the QueryString runs
verbatim on the local SQL engine (`lake.aws.sql_engine`), whose catalog holds the table created
by the same Athena DDL text, and the result is written where Athena would write it."""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from lake.asl import TaskFailure, TaskRequest
from lake.aws.sql_engine import QueryOutcome, error_reason, run_sql
from lake.home import LakeHome

ENGINE_VERSION = {
    "SelectedEngineVersion": "AUTO",
    "EffectiveEngineVersion": "Athena engine version 3",
}


class AthenaStartQueryExecution:
    """The local `athena:startQueryExecution.sync` integration."""

    def __init__(self, home: LakeHome, spark: Callable[[], Any]) -> None:
        self.home = home
        self.spark = spark

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        params = request.parameters
        query = str(params.get("QueryString", ""))
        database = (params.get("QueryExecutionContext") or {}).get("Database")
        workgroup = params.get("WorkGroup", "primary")
        query_id = str(uuid.uuid4())
        output = (params.get("ResultConfiguration") or {}).get(
            "OutputLocation", f"s3://{self.home.settings.athena_results_bucket}/"
        )
        submitted = int(time.time() * 1000)
        execution: dict[str, Any] = {
            "QueryExecutionId": query_id,
            "Query": query,
            "StatementType": _statement_type(query),
            "ResultConfiguration": {"OutputLocation": f"{output.rstrip('/')}/{query_id}.csv"},
            "QueryExecutionContext": {"Database": database} if database else {},
            "WorkGroup": workgroup,
            "EngineVersion": ENGINE_VERSION,
        }
        request.submitted({"QueryExecutionId": query_id})  # StartQueryExecution's answer
        try:
            outcome = run_sql(self.spark(), query, database)
        except Exception as e:
            reason = error_reason(e)
            execution["Status"] = {
                "State": "FAILED",
                "StateChangeReason": reason,
                "SubmissionDateTime": submitted,
                "CompletionDateTime": int(time.time() * 1000),
                "AthenaError": {
                    "ErrorCategory": 2,
                    "ErrorType": 1006,
                    "Retryable": False,
                    "ErrorMessage": reason,
                },
            }
            raise TaskFailure("States.TaskFailed", json.dumps({"QueryExecution": execution})) from e
        completed = int(time.time() * 1000)
        self._write_result(execution["ResultConfiguration"]["OutputLocation"], outcome)
        execution["Status"] = {
            "State": "SUCCEEDED",
            "SubmissionDateTime": submitted,
            "CompletionDateTime": completed,
        }
        execution["Statistics"] = {
            "EngineExecutionTimeInMillis": completed - submitted,
            "TotalExecutionTimeInMillis": completed - submitted,
            "DataScannedInBytes": 0,
        }
        return {"QueryExecution": execution}

    def _write_result(self, location: str, outcome: QueryOutcome) -> None:
        # Athena writes every query's result to the output location; so do we (DDL: empty).
        try:
            path = self.home.local_path(location)
        except ValueError:
            return  # an output location outside the lake: nothing to mirror
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            if outcome.columns:
                writer = csv.writer(f)
                writer.writerow(outcome.columns)
                writer.writerows(outcome.rows)


def _statement_type(query: str) -> str:
    first = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
    return "DML" if first in {"SELECT", "WITH", "INSERT", "VALUES"} else "DDL"
