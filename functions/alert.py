"""The alert for an execution that ended badly, in plain words: which file, which state failed,
the error and a readable cause, when, the execution, a console link and how to re-run.

`format_alert` is pure: the AWS handler below feeds it the "Step Functions Execution Status
Change" event and the execution's history from GetExecutionHistory, the local runtime feeds it
its own AWS-shaped history and sends the result by SMTP.

The object key is chosen by whoever uploaded the file, so the alert shows it as data, never as
prose: on a line of its own, quoted and escaped (`quoted`), under a label that says it is a
name; the subject quotes it too; elsewhere (the cause, the steps) it is referred to as "the
file above". Line breaks and other control characters in any text the alert repeats are
escaped, so nothing can add lines that read as the alert's own."""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions import story
from functions.entry import Handler, built_on_first_call

SUBJECT_MAX = 100  # SNS: at most 100 printable ASCII characters, no line breaks
HISTORY_TAIL_EVENTS = 1000  # the failure is at the end of the history: its tail is enough

tracer = Tracer()

_CONSOLE_DOMAINS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn"}


@dataclass(frozen=True)
class Alert:
    """An e-mail-ready alert: an SNS-safe subject and a plain-text body."""

    subject: str
    body: str


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
    try:
        event = json.loads(execution_input) if isinstance(execution_input, str) else execution_input
    except ValueError:
        return None
    if not isinstance(event, Mapping):
        return None
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    return f"s3://{bucket}/{unquote_plus(key)}" if bucket and key else None


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


FILE_ABOVE = "(the file above)"


def quoted(text: str) -> str:
    """`text` in double quotes with backslashes, quotes and every non-printable character
    (line breaks, tabs, bidirectional controls) escaped: one line that reads as a name."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def _one_line(text: str) -> str:
    """Text the alert repeats (a cause, an error): non-printable characters escaped."""
    return quoted(text)[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def _without_file(text: str, file: str | None) -> str:
    """The cause with the file's URI and key replaced by a reference to the quoted line."""
    if not file:
        return text
    key = file.split("/", 3)[3] if file.count("/") >= 3 else file
    return text.replace(file, FILE_ABOVE).replace(key, FILE_ABOVE)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isprintable() else " " for ch in folded)


def subject_line(machine: str, status: str, state: str | None, file: str | None) -> str:
    """At most 100 printable ASCII characters, as SNS requires of an e-mail subject."""
    head = _ascii(f"{machine} {status}" + (f" at {state}" if state else ""))
    name = _ascii(file.rsplit("/", 1)[-1] if file else "").replace('"', "'")
    subject = f'{head}: "{name}"' if name else head
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 3] + "..."
    return subject


def what_to_do(
    told: story.Story,
    *,
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    file: str | None,
    redrive_status: str | None = None,
    redrive_reason: str | None = None,
) -> list[str]:
    """The steps that fit this ending, in AWS's words (the console and the AWS CLI)."""
    if told.next_step == story.FIX_FILE:
        lines = [
            "The file itself was rejected, so re-running it as it is would fail the same way.",
            f"Fix the file as the cause says and upload it again to the same key"
            f"{f' {FILE_ABOVE}' if file else ''}: the upload starts a new execution.",
        ]
        if told.job_failed:
            lines.append(
                "The rows set aside and their reasons are under rejects/travel_times/ in the "
                "curated bucket."
            )
        return lines
    lines = []
    if told.status == "TIMED_OUT":
        lines.append(
            "The execution ran out of time; check whether the Glue job is stuck or "
            "needs more workers or a longer timeout before re-running."
        )
    if told.next_step == story.START_AGAIN:
        lines.append(
            f"Redrive is not available ({redrive_status}"
            f"{f': {redrive_reason}' if redrive_reason else ''}); start a new execution instead."
        )
    else:
        where = f"at {told.state}" if told.state else "at the state that did not finish"
        lines += [
            f"Once the cause is dealt with, redrive the execution: it resumes {where}, keeping "
            "the work of the states that succeeded (within 14 days of the start).",
            "  Console: open the link above and choose Redrive.",
            f"  CLI: aws stepfunctions redrive-execution --execution-arn {execution_arn}",
        ]
    return [
        *lines,
        "Or start a new execution with the same input (the S3 event; every run is safe to "
        "repeat): in the console choose 'New execution' with the same input, or",
        f"  aws stepfunctions start-execution --state-machine-arn {state_machine_arn} "
        "--input file://input.json   (input.json: the execution's input, copied from the "
        "console)",
        f"On the local runtime the same choices are `lake redrive {name}` and `lake rerun {name}`.",
    ]


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
    told = story.read_story(
        history,
        status,
        error=detail.get("error"),
        cause=detail.get("cause"),
        redrive_status=detail.get("redriveStatus"),
    )
    ending = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was aborted"}.get(
        status, status.lower()
    )
    facts = [
        ("Failed state", told.state or "(unknown: no state was running)"),
        ("Status", status),
        ("Error", _one_line(told.error) if told.error else "(none recorded)"),
        ("Cause", _one_line(_without_file(told.reason, file))),
        ("Started", _when(detail.get("startDate")) or "(unknown)"),
        ("Stopped", _when(detail.get("stopDate")) or "(unknown)"),
        ("Execution", execution_arn),
        ("Console", console_link(execution_arn) or "(no link for this ARN)"),
    ]
    if detail.get("redriveCount"):
        facts.append(("Redriven", f"{detail['redriveCount']} time(s) before"))
    width = max(len(label) for label, _ in facts) + 2
    steps = what_to_do(
        told,
        execution_arn=execution_arn,
        state_machine_arn=state_machine_arn,
        name=name,
        file=file,
        redrive_status=detail.get("redriveStatus"),
        redrive_reason=detail.get("redriveStatusReason"),
    )
    named = (
        [
            "File (its name as uploaded, quoted: a name, not an instruction):",
            f"  {quoted(file)}",
        ]
        if file
        else ["File: (unknown: the execution's input is not an S3 event)"]
    )
    body = "\n".join(
        [
            f"The {machine} execution for {'the file below' if file else 'an unknown file'} "
            f"{ending}" + (f" in state {told.state}." if told.state else "."),
            "",
            *named,
            "",
            *(f"{label + ':':<{width}}{value}" for label, value in facts),
            "",
            "What to do:",
            *(f"- {line}" if not line.startswith("  ") else f"  {line}" for line in steps),
            "",
        ]
    )
    return Alert(subject=subject_line(machine, status, told.state, file), body=body)


def history_tail(
    stepfunctions: Any, execution_arn: str, limit: int = HISTORY_TAIL_EVENTS
) -> list[dict[str, Any]]:
    """The last `limit` history events of an execution, oldest first."""
    paginator = stepfunctions.get_paginator("get_execution_history")
    events: list[dict[str, Any]] = []
    pages = paginator.paginate(
        executionArn=execution_arn, reverseOrder=True, includeExecutionData=True
    )
    for page in pages:
        events.extend(page["events"])
        if len(events) >= limit:
            break
    return sorted(events[:limit], key=lambda e: int(e["id"]))


def make_handler(stepfunctions: Any, sns: Any, topic_arn: str, logger: Logger) -> Handler:
    """The alert handler over the clients it is handed: Step Functions (GetExecutionHistory) and
    SNS (Publish to `topic_arn`). AWS's handler below is built from boto3's; the local runtime
    builds one from its own history and e-mail."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        execution_arn = (event.get("detail") or {}).get("executionArn", "")
        logger.append_keys(execution_arn=execution_arn)
        try:
            history = history_tail(stepfunctions, execution_arn)
        except (ClientError, BotoCoreError):
            # An alert without the failed state beats no alert at all.
            logger.exception("could not read the execution history; alerting without it")
            history = []
        alert = format_alert(event, history)
        response = sns.publish(TopicArn=topic_arn, Subject=alert.subject, Message=alert.body)
        logger.info("alert published", extra={"subject": alert.subject})
        return {"subject": alert.subject, "message_id": response["MessageId"]}

    return handler


def _aws_handler() -> Handler:
    import boto3

    return make_handler(
        boto3.client("stepfunctions"),
        boto3.client("sns"),
        os.environ["ALERT_TOPIC_ARN"],
        Logger(),  # service: the function's name, set by the stack
    )


# Lambda's entry point (`functions.alert.handler`): the handler over boto3's clients.
handler = built_on_first_call(_aws_handler)
