"""Follow an execution as it runs: one line per state as it finishes, a spinner on the state
that runs now. Reads the execution database only, so it follows executions run by this
process and by another `lake` process (e.g. `lake watch`) alike."""

from __future__ import annotations

import time

from rich.console import Console
from rich.text import Text

from lake.db import ExecutionRecord, ExecutionStore
from lake.timeline import (
    CAUGHT,
    FAILED,
    SUCCEEDED,
    cause_message,
    failure_details,
    read_timeline,
)

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
    store: ExecutionStore,
    arn: str,
    state_names: list[str],
    console: Console,
    poll_s: float = 0.2,
    since_id: int = 0,
) -> ExecutionRecord:
    """Print the execution's progress until it ends; return its final record. Events up to
    `since_id` (e.g. before a redrive) are history already told: read, not printed."""
    events: list[dict] = [e for e in store.events(arn) if e["id"] <= since_id]
    seen = since_id
    earlier = read_timeline(events, state_names)
    printed = {(r.name, r.status) for r in earlier.states.values() if r.exited is not None}
    announced: set[str] = set()
    retries_printed = len(_retried_failures(events))
    with console.status("starting", spinner="dots") as status:
        while True:
            record = store.find_execution(arn)
            new = store.events(arn, after_id=seen)
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
                        f"{cause_message(details.get('cause'))[:160]}",
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
                status.update(f"[bold blue]{current.name}[/] running… ({current.seconds:.0f} s)")
            if record is not None and record.finished:
                return record
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
