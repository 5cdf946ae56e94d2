"""Redriving a Map Run, and running one of its child executions.

Step Functions guide, "Redriving Map Runs": a redriven parent redrives its Distributed Map's
Map Run (same ARN, a MapRunRedriven event with its redrive count): the child executions that
failed, timed out or were aborted are redriven (RedriveExecution: same ARN, from the state that
did not finish), those that succeeded keep their output, and those never started start now,
all with the items of the original attempt ("Scenarios of input used on Map Run redrive"; a Map
Run that never read its items reads them now). A Map Run that failed with
States.DataLimitExceeded or States.Runtime is not redriven: a new one starts; so does one whose
children the runtime cannot give back (``MapRunObserver.previous_children`` answers None)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lake.asl.definition import StateMachineDefinition
from lake.asl.errors import STATES_DATA_LIMIT_EXCEEDED, STATES_RUNTIME, NotRedrivable
from lake.asl.history import History, context_time, parse_event_time
from lake.asl.model import ExecutionResult
from lake.asl.observer import ChildExecution, MapRun
from lake.asl.redrive import plan_redrive
from lake.asl.resume import Resume, map_run_of

if TYPE_CHECKING:
    from lake.asl.run import Run

_NEW_RUN_ERRORS = frozenset({STATES_DATA_LIMIT_EXCEEDED, STATES_RUNTIME})


def previous_map_run(
    run: Run, state: dict, resume: Resume | None, fresh: MapRun
) -> tuple[MapRun, list[ChildExecution]] | None:
    """The earlier attempt's Map Run, redriven (its counts to be made again), with its
    children; None when a new Map Run starts instead. ``fresh`` is the new Map Run this
    attempt would start (its settings are this attempt's)."""
    if resume is None:
        return None
    earlier = map_run_of(resume)
    if earlier is None or earlier["error"] in _NEW_RUN_ERRORS:
        return None
    children = run.services.observer.previous_children(earlier["mapRunArn"])
    if children is None:
        return None
    redrives = sum(
        1
        for event in resume.events
        if (event.get("mapRunRedrivenEventDetails") or {}).get("mapRunArn") == earlier["mapRunArn"]
    )
    mapped = replace(fresh, map_run_arn=earlier["mapRunArn"], redrive_count=redrives + 1)
    for child in children:
        child.map_run_arn = mapped.map_run_arn
    return mapped, children


def child_run_of(
    run: Run,
    child: ChildExecution,
    processor: dict,
    stop: threading.Event,
    history: History,
    redrive_count: int,
    redrive_time: Any = None,
) -> Run:
    """The Run of one child execution: its own context object and history."""
    execution = {
        "Id": child.execution_arn,
        "Input": child.input,
        "Name": child.name,
        "RoleArn": run.context["Execution"].get("RoleArn", ""),
        "StartTime": context_time(child.start_date or run.clock()),
        "RedriveCount": redrive_count,
    }
    if redrive_time is not None:
        execution["RedriveTime"] = context_time(redrive_time)
    context = {
        "Execution": execution,
        "StateMachine": {
            "Id": child.state_machine_arn,
            "Name": child.state_machine_arn.split(":")[-1],
        },
        "State": {},
    }
    child_run = run.scoped(context, stop)
    child_run.history = history
    child_run.machine = processor
    return child_run


def finish_child(child: ChildExecution, result: ExecutionResult, observer: Any) -> None:
    """Record how a child execution ended and tell the observer."""
    child.status = "ABORTED" if result.status == "CANCELLED" else result.status
    child.output, child.error, child.cause = result.output, result.error, result.cause
    child.events = result.events
    child.stop_date = parse_event_time(result.events[-1]["timestamp"])
    observer.child_ended(child)


def redrive_child(run: Run, child: ChildExecution, processor: dict, stop: threading.Event) -> None:
    """RedriveExecution of a child that did not succeed: from the state it stopped in, its
    events kept. One that cannot be redriven keeps its last error (the guide: "The last error
    or output of the execution is permanent")."""
    observer = run.services.observer
    previous_status, now = child.status, run.clock()
    try:
        plan = plan_redrive(StateMachineDefinition(raw=processor), list(child.events), now)
    except NotRedrivable:
        child.status = previous_status
        return
    history = History(run.clock, lambda event: observer.child_event(child, event), child.events)
    observer.child_started(child)
    history.add("ExecutionRedriven", {"redriveCount": plan.redrive_count})
    child_run = child_run_of(
        run, child, processor, stop, history, redrive_count=plan.redrive_count, redrive_time=now
    )
    child_run.resume = Resume(
        plan.state_name, plan.state_input, plan.entered_id, tuple(child.events)
    )
    finish_child(child, child_run.execute(plan.state_name, plan.state_input), observer)
