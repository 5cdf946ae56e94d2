"""The alert for an execution that ended badly, in plain words: which file, which state failed,
the error and a readable cause, when, the execution, a console link and how to re-run.

`format_alert` is pure: the AWS handler below feeds it the "Step Functions Execution Status
Change" event and the execution's history from GetExecutionHistory, the local runtime feeds it
its own AWS-shaped history and sends the result by SMTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import REJECTION_NAMES

SUBJECT_MAX = 100  # SNS: at most 100 printable ASCII characters, no line breaks
HISTORY_TAIL_EVENTS = 1000  # the failure is at the end of the history: its tail is enough
CAUSE_MAX = 2000

logger = Logger(service="alert")
tracer = Tracer(service="alert")

_CONSOLE_DOMAINS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn"}
# History event detail keys that carry an error and a cause, the most specific first.
_FAILURE_DETAILS = (
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "executionFailedEventDetails",
    "executionTimedOutEventDetails",
    "executionAbortedEventDetails",
)


@dataclass(frozen=True)
class Alert:
    """An e-mail-ready alert: an SNS-safe subject and a plain-text body."""

    subject: str
    body: str


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _when(epoch_ms: Any) -> str | None:
    if epoch_ms is None:
        return None
    if isinstance(epoch_ms, dt.datetime):
        moment = epoch_ms
    else:
        moment = dt.datetime.fromtimestamp(float(epoch_ms) / 1000, dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def source_file(execution_input: Any) -> str | None:
    """`s3://bucket/key` of the S3 event that started the execution (key URL-decoded)."""
    event = _json(execution_input)
    if not isinstance(event, Mapping):
        return None
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    return f"s3://{bucket}/{unquote_plus(key)}" if bucket and key else None


def failed_state(history: Iterable[Mapping[str, Any]]) -> str | None:
    """The state the execution was in when it ended: the last state entered and not exited."""
    open_states: list[str] = []
    for event in sorted(history, key=lambda e: int(e.get("id", 0))):
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            open_states.append(event["stateEnteredEventDetails"]["name"])
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_states:
                open_states.remove(name)
        elif kind == "ExecutionRedriven":
            open_states.clear()  # a redrive re-enters the state that did not finish
    return open_states[-1] if open_states else None


def failure_from_history(history: Iterable[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The (error, cause) of the most recent failure event in the history."""
    for event in sorted(history, key=lambda e: int(e.get("id", 0)), reverse=True):
        for key in _FAILURE_DETAILS:
            details = event.get(key)
            if details and (details.get("error") or details.get("cause")):
                return details.get("error"), details.get("cause")
    return None, None


def is_glue_run(cause: str | None) -> bool:
    """Whether a cause is a Glue job run (what glue:startJobRun.sync reports on failure)."""
    doc = _json(cause)
    return isinstance(doc, Mapping) and "JobRunState" in doc


def readable_cause(cause: str | None) -> str:
    """The human part of a cause: a Lambda error's message, a Glue run's ErrorMessage, an Athena
    query's StateChangeReason; else the cause as recorded (shortened)."""
    if not cause:
        return "(no cause recorded)"
    doc = _json(cause)
    if isinstance(doc, Mapping):
        if doc.get("errorMessage"):  # Lambda: {"errorType", "errorMessage", "stackTrace", ...}
            return str(doc["errorMessage"])
        if "JobRunState" in doc or "ErrorMessage" in doc:  # Glue: the JobRun
            run = " ".join(filter(None, ["Glue job run", doc.get("Id")]))
            state = doc.get("JobRunState", "FAILED")
            return f"{run} ended {state}: {doc.get('ErrorMessage') or 'no message'}"
        status = (doc.get("QueryExecution") or {}).get("Status") or {}
        if status:  # Athena: the QueryExecution
            reason = status.get("StateChangeReason") or (status.get("AthenaError") or {}).get(
                "ErrorMessage"
            )
            return f"Athena query ended {status.get('State', 'FAILED')}: {reason or 'no reason'}"
    text = cause.strip()
    return text if len(text) <= CAUSE_MAX else text[:CAUSE_MAX] + " ... (shortened)"


def console_link(execution_arn: str) -> str | None:
    """The Step Functions console page of an execution."""
    parts = execution_arn.split(":")
    if len(parts) < 4 or not parts[3]:
        return None
    partition, region = parts[1], parts[3]
    domain = _CONSOLE_DOMAINS.get(partition, "console.aws.amazon.com")
    return (
        f"https://{region}.{domain}/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isprintable() else " " for ch in folded)


def subject_line(machine: str, status: str, state: str | None, file: str | None) -> str:
    """At most 100 printable ASCII characters, as SNS requires of an e-mail subject."""
    head = _ascii(f"{machine} {status}" + (f" at {state}" if state else ""))
    name = _ascii(file.rsplit("/", 1)[-1] if file else "")
    subject = f"{head}: {name}" if name else head
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 3] + "..."
    return subject


def what_to_do(
    *,
    status: str,
    error: str | None,
    state: str | None,
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    file: str | None,
    redrive_status: str | None,
    redrive_reason: str | None,
    job_failed: bool = False,
) -> list[str]:
    """The re-run instructions that fit this ending."""
    local = [
        f"On the local runtime the same choices are `lake redrive {name}` and `lake rerun {name}`.",
    ]
    if error in REJECTION_NAMES:
        return [
            "The file itself was rejected, so re-running it as it is would fail the same way.",
            f"Fix the file as the cause says and upload it again to the same key"
            f"{f' ({file})' if file else ''}: the upload starts a new execution.",
        ]
    lines = []
    if redrive_status and redrive_status != "REDRIVABLE":
        lines.append(
            f"Redrive is not available ({redrive_status}"
            f"{f': {redrive_reason}' if redrive_reason else ''}); start a new execution instead."
        )
    else:
        where = f"at {state}" if state else "at the state that did not finish"
        lines += [
            f"Once the cause is dealt with, redrive the execution: it resumes {where}, keeping "
            "the work of the states that succeeded (within 14 days of the start).",
            "  Console: open the link above and choose Redrive.",
            f"  CLI: aws stepfunctions redrive-execution --execution-arn {execution_arn}",
        ]
    lines += [
        "Or start a new execution with the same input (the S3 event; every run is safe to "
        "repeat): in the console choose 'New execution' with the same input, or",
        f"  aws stepfunctions start-execution --state-machine-arn {state_machine_arn} "
        "--input file://input.json   (input.json: the execution's input, copied from the "
        "console)",
        *local,
    ]
    if job_failed:
        lines.insert(
            0,
            "If the cause is the file's content (e.g. more rows rejected than the threshold; "
            "the rows and reasons are under rejects/travel_times/ in the curated bucket), fix "
            "the file and upload it again to the same key instead.",
        )
    if status == "TIMED_OUT":
        lines.insert(
            0,
            "The execution ran out of time; check whether the Glue job is stuck or "
            "needs more workers or a longer timeout before re-running.",
        )
    return lines


def format_alert(status_event: Mapping[str, Any], history: list[Mapping[str, Any]]) -> Alert:
    """The alert for a "Step Functions Execution Status Change" event (FAILED, TIMED_OUT or
    ABORTED), given the execution's history events in GetExecutionHistory's shape (any order;
    only the tail is needed)."""
    detail = status_event.get("detail") or {}
    status = str(detail.get("status") or "FAILED")
    execution_arn = str(detail.get("executionArn") or "")
    state_machine_arn = str(detail.get("stateMachineArn") or "")
    machine = state_machine_arn.rsplit(":", 1)[-1] or "workflow"
    name = str(detail.get("name") or execution_arn.rsplit(":", 1)[-1])

    execution_input = detail.get("input")
    if execution_input is None:  # not included in the event: take it from the history
        started = [e for e in history if e.get("type") == "ExecutionStarted"]
        if started:
            execution_input = started[0].get("executionStartedEventDetails", {}).get("input")
    file = source_file(execution_input)
    state = failed_state(history)
    history_error, history_cause = failure_from_history(history)
    error = detail.get("error") or history_error
    cause = detail.get("cause") or history_cause
    if status == "TIMED_OUT" and not error:
        error = "States.Timeout"
    if status == "ABORTED" and not cause:
        cause = "The execution was stopped (StopExecution, from the console, the CLI or an API)."

    ending = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was aborted"}.get(
        status, status.lower()
    )
    facts = [
        ("File", file or "(unknown: the execution's input is not an S3 event)"),
        ("Failed state", state or "(unknown: no state was running)"),
        ("Status", status),
        ("Error", error or "(none recorded)"),
        ("Cause", readable_cause(cause)),
        ("Started", _when(detail.get("startDate")) or "(unknown)"),
        ("Stopped", _when(detail.get("stopDate")) or "(unknown)"),
        ("Execution", execution_arn),
        ("Console", console_link(execution_arn) or "(no link for this ARN)"),
    ]
    if detail.get("redriveCount"):
        facts.append(("Redriven", f"{detail['redriveCount']} time(s) before"))
    width = max(len(label) for label, _ in facts) + 2
    steps = what_to_do(
        status=status,
        error=error,
        state=state,
        execution_arn=execution_arn,
        state_machine_arn=state_machine_arn,
        name=name,
        file=file,
        redrive_status=detail.get("redriveStatus"),
        redrive_reason=detail.get("redriveStatusReason"),
        job_failed=is_glue_run(cause),
    )
    body = "\n".join(
        [
            f"The {machine} execution for {file or 'an unknown file'} {ending}"
            + (f" in state {state}." if state else "."),
            "",
            *(f"{label + ':':<{width}}{value}" for label, value in facts),
            "",
            "What to do:",
            *(f"- {line}" if not line.startswith("  ") else f"  {line}" for line in steps),
            "",
        ]
    )
    return Alert(subject=subject_line(machine, status, state, file), body=body)


@cache
def stepfunctions_client() -> Any:
    return boto3.client("stepfunctions")


@cache
def sns_client() -> Any:
    return boto3.client("sns")


def history_tail(execution_arn: str, limit: int = HISTORY_TAIL_EVENTS) -> list[dict[str, Any]]:
    """The last `limit` history events of an execution, oldest first."""
    paginator = stepfunctions_client().get_paginator("get_execution_history")
    events: list[dict[str, Any]] = []
    pages = paginator.paginate(
        executionArn=execution_arn, reverseOrder=True, includeExecutionData=True
    )
    for page in pages:
        events.extend(page["events"])
        if len(events) >= limit:
            break
    return sorted(events[:limit], key=lambda e: int(e["id"]))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (`functions.alert.handler`): format and publish to ALERT_TOPIC_ARN."""
    execution_arn = (event.get("detail") or {}).get("executionArn", "")
    logger.append_keys(execution_arn=execution_arn)
    try:
        history = history_tail(execution_arn)
    except (ClientError, BotoCoreError):
        # An alert without the failed state beats no alert at all.
        logger.exception("could not read the execution history; alerting without it")
        history = []
    alert = format_alert(event, history)
    response = sns_client().publish(
        TopicArn=os.environ["ALERT_TOPIC_ARN"], Subject=alert.subject, Message=alert.body
    )
    logger.info("alert published", extra={"subject": alert.subject})
    return {"subject": alert.subject, "message_id": response["MessageId"]}
