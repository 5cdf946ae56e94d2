"""Follow an execution as it runs: one line per state as it finishes, a spinner on the state
that runs now. Reads the execution database only, so it follows executions run by this
process and by another `lake` process (e.g. `lake watch`) alike."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from functions.story import readable_cause
from lake.runtime import EngineError, ExecutionRecord, Lake
from lake.ui import terminal
from lake.ui.graph import state_order
from lake.ui.report import failure_advice, story_of, success_summary, summary_json
from lake.ui.timeline import CAUGHT, FAILED, SUCCEEDED, failure_details, read_timeline

MARKS = {SUCCEEDED: ("✔", "green"), CAUGHT: ("✔", "yellow"), FAILED: ("✖", "red")}


def state_line(name: str, status: str, seconds: float | None, note: str = "") -> Text:
    mark, colour = MARKS.get(status, ("•", "blue"))
    line = Text.assemble(
        ("  " + mark + " ", colour),
        (f"{name:<20}", "bold"),
        (f"{seconds:7.1f} s  " if seconds is not None else " " * 11, "dim"),
    )
    if note:
        line.append(note, "yellow" if status == CAUGHT else ("red" if status == FAILED else ""))
    return line


def follow(
    lake: Lake,
    name: str,
    console: Console,
    poll_s: float = 0.2,
    since_id: int = 0,
    running_note: Callable[[], str] | None = None,
) -> ExecutionRecord:
    """Print the execution's progress until it ends; return its final record. Events up to
    `since_id` (e.g. before a redrive) are history already told: read, not printed.
    `running_note()` adds to the line of the running state (e.g. a Map Run's counts)."""
    definition = lake.definition_of(lake.execution(name))
    state_names = state_order(definition.states, definition.start_at)
    events: list[dict] = [e for e in lake.history(name) if e["id"] <= since_id]
    seen = since_id
    earlier = read_timeline(events, state_names)
    printed = {(r.name, r.status) for r in earlier.states.values() if r.exited is not None}
    announced: set[str] = set()
    retries_printed = len(_retried_failures(events))
    polls = gone = 0
    with console.status("starting", spinner="dots") as status:
        while True:
            record = lake.execution(name)
            new = lake.history(name, after_id=seen)
            if new:
                events.extend(new)
                seen = new[-1]["id"]
            timeline = read_timeline(events, state_names)
            # Retries, as they happen: a failed attempt followed by the task scheduled again.
            retried = _retried_failures(events)
            for event in retried[retries_printed:]:
                details = failure_details(event)
                console.print(
                    Text(
                        f"    ↻ retrying after {details.get('error')}: "
                        f"{readable_cause(details.get('cause'))[:160]}",
                        "yellow",
                    )
                )
            retries_printed = len(retried)
            for run in timeline.states.values():
                if (
                    run.status in (SUCCEEDED, CAUGHT, FAILED)
                    and (run.name, run.status) not in printed
                ):
                    printed.add((run.name, run.status))
                    note = ""
                    if run.status == FAILED and run.last_error:
                        note = str(run.last_error.get("error", ""))
                    elif run.status == CAUGHT:
                        note = f"after {run.attempts} attempts"
                    console.print(state_line(run.name, run.status, run.seconds, note))
            current = timeline.current_state
            if current is not None and not console.is_terminal and current.name not in announced:
                # No spinner off a terminal: say once what is running, as it may take a while.
                announced.add(current.name)
                console.print(Text(f"  … {current.name} running", "dim"))
            if current is not None:
                extra = f" {running_note()}" if running_note is not None else ""
                status.update(
                    f"[bold blue]{escape(current.name)}[/] running… ({current.seconds:.0f} s)"
                    f"{escape(extra)}"
                )
            if record is not None and record.finished:
                return record
            polls += 1
            if polls % 10 == 0:  # every few seconds: is anyone still running it?
                gone = 0 if lake.engine_running() else gone + 1
                if gone >= 2 and not lake.execution(name).finished:
                    raise EngineError(
                        f"the engine running execution {name} stopped before it ended (see "
                        f"{lake.home.engine_log}); `lake redrive {name}` continues it"
                    )
            time.sleep(poll_s)


def _retried_failures(events: list[dict]) -> list[dict]:
    """Task failures that a retry followed (the last failure of a state is told by its line)."""
    retried = []
    for i, event in enumerate(events):
        if event["type"] in ("TaskFailed", "TaskTimedOut"):
            rest = events[i + 1 :]
            for later in rest:
                if later["type"] == "TaskScheduled":
                    retried.append(event)
                    break
                if later["type"].endswith(("StateExited", "StateEntered")) or later[
                    "type"
                ].startswith("Execution"):
                    break
    return retried


def follow_and_report(lake: Lake, name: str, as_json: bool = False, since_id: int = 0) -> int:
    """Follow an execution to its end on stderr, then print what it did (or where, why and what
    to do, when it did not succeed) on stdout; 0 only when it succeeded."""
    err = terminal.stderr()
    err.print(Text(f"execution {name}", "bold"))
    record = follow(lake, name, err, since_id=since_id)
    events = lake.history(name)
    definition = lake.definition_of(record)
    timeline = read_timeline(events, state_order(definition.states, definition.start_at))
    told = None if record.status == "SUCCEEDED" else story_of(record, events)
    manifest = lake.manifest(record)
    if as_json:
        print(json.dumps(summary_json(record, timeline, told, manifest), indent=2))
    else:
        out = terminal.stdout()
        out.print()
        if told is None:
            out.print(Text(f"✔ {record.source_key or record.name} is in the lake.", "bold green"))
            out.print(success_summary(manifest, timeline))
        else:
            out.print(Text(f"✖ execution {record.name} {record.status}", "bold red"))
            for line in failure_advice(record, told):
                out.print(Text("  " + line))
    return 0 if told is None else 1
