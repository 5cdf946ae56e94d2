"""One execution as its console page shows it: the graph coloured by what happened, each
state's timing, attempts, input and output, the failure's story (functions/story.py: the same
reading as the alert e-mail and the CLI), what the run took in, and the full event history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from functions import story
from lake.runtime import ExecutionRecord, Lake, RedriveStatus
from lake.ui.graph import execution_svg, state_order
from lake.ui.report import counts, failure_advice, partition_label
from lake.ui.timeline import NOT_REACHED, Timeline, event_time, read_timeline
from lake.ui.views import event_note, event_outcome, state_of_event

LOG_TAIL_BYTES = 200_000  # the end of a long log is where the failure is
REASON_MAX = 800
_STACK_FRAME = re.compile(r"^\s+at [\w$.<>/]+\(")  # a JVM stack line inside Glue's message


def short_reason(reason: str | None) -> str | None:
    """A readable cause without the JVM stack trace a Spark error drags along (the whole
    cause stays on the page, folded)."""
    if reason is None:
        return None
    lines = []
    for line in reason.splitlines():
        if _STACK_FRAME.match(line):
            break
        lines.append(line)
    text = "\n".join(lines).strip()
    return text if len(text) <= REASON_MAX else text[:REASON_MAX] + " …"


@dataclass
class StateRow:
    """One top-level state: how it went, how long, how many attempts, what went in and out."""

    name: str
    kind: str
    outcome: str
    entered: Any = None
    seconds: float | None = None
    attempts: int = 0
    error: str | None = None
    reason: str | None = None
    input: Any = None
    output: Any = None


@dataclass
class HistoryRow:
    id: int
    type: str
    outcome: str | None
    state: str
    time: Any
    offset: float
    note: str
    event: dict[str, Any]


@dataclass
class ExecutionView:
    record: ExecutionRecord
    machine: str
    graph: Markup
    states: list[StateRow]
    history: list[HistoryRow]
    redrive: RedriveStatus
    told: story.Story | None = None
    advice: list[str] = field(default_factory=list)
    took_in: dict[str, Any] | None = None
    partitions: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.record.status == "RUNNING"


def execution_view(lake: Lake, record: ExecutionRecord) -> ExecutionView:
    """Everything the execution page shows, read from the execution database."""
    definition = lake.definition_of(record)
    events = lake.history(record.arn)
    timeline = read_timeline(events, state_order(definition.states, definition.start_at))
    machine = record.state_machine_arn.rsplit(":", 1)[-1]
    svg = execution_svg(record, definition.states, definition.start_at, timeline)
    redrive = lake.redrive_status(record)
    view = ExecutionView(
        record=record,
        machine=machine,
        graph=Markup(svg),  # graph.py escapes every text it draws
        states=_state_rows(timeline, definition.states, events),
        history=_history_rows(events),
        redrive=redrive,
    )
    if record.finished and record.status != "SUCCEEDED":
        view.told = story.read_story(
            events,
            record.status,
            record.error,
            record.cause,
            redrive_status="REDRIVABLE" if redrive.redrivable else "NOT_REDRIVABLE",
        )
        view.advice = failure_advice(record, view.told)
    manifest = lake.manifest(record)
    if manifest:
        view.took_in = counts(manifest)
        view.partitions = [partition_label(p) for p in view.took_in["partitions"]]
    return view


def log_tail(lake: Lake, record: ExecutionRecord) -> tuple[str, bool]:
    """The end of the execution's log (the Lambda's and the Glue job's lines) and whether it
    was cut; "" when it wrote none."""
    path = lake.home.execution_log(record.name)
    try:
        with path.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(max(0, size - LOG_TAIL_BYTES))
            text = log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return "", False
    return text, size > LOG_TAIL_BYTES


def _state_rows(
    timeline: Timeline, states: dict[str, dict], events: list[dict[str, Any]]
) -> list[StateRow]:
    inputs = _state_inputs(events)
    rows = []
    for run in timeline.states.values():
        last = run.last_error or {}
        rows.append(
            StateRow(
                name=run.name,
                kind=states.get(run.name, {}).get("Type", ""),
                outcome=run.status,
                entered=run.entered,
                seconds=run.seconds if run.entered else None,
                attempts=run.attempts,
                error=last.get("error"),
                reason=short_reason(story.readable_cause(last.get("cause"))) if last else None,
                input=inputs.get(run.name),
                output=run.output if run.status != NOT_REACHED else None,
            )
        )
    return rows


def _state_inputs(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Each top-level state's input at its latest entry (Map and Parallel inner states are
    theirs, not the execution's)."""
    inputs: dict[str, Any] = {}
    for depth, event in story.with_nesting_depth(events):
        if depth == 0 and event.get("type", "").endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            inputs[details["name"]] = details.get("input")
    return inputs


def _history_rows(events: list[dict[str, Any]]) -> list[HistoryRow]:
    rows = []
    start = event_time(events[0]) if events else None
    current = ""
    for event in events:
        kind = event["type"]
        current = state_of_event(event) or current
        when = event_time(event)
        details = {k: v for k, v in event.items() if k.endswith("EventDetails")}
        rows.append(
            HistoryRow(
                id=event["id"],
                type=kind,
                outcome=event_outcome(kind),
                state=state_of_event(event) or (current if kind.startswith("Task") else ""),
                time=when,
                offset=(when - start).total_seconds() if start else 0.0,
                note=event_note(event),
                event=details,
            )
        )
    return rows
