"""The Map state in Distributed mode: a Map Run of child workflow executions.

Step Functions guide, "Using Map state in Distributed mode", "Viewing a Distributed Map Run
execution" and "Redriving Map Runs": the state starts a Map Run
(``arn:aws:states:<region>:<account>:mapRun:<stateMachineName>/<Label or state name>:<id>``)
that runs each item (or batch) as a child execution of the item processor, with its own
history, at most MaxConcurrency at once (0: up to 10,000; here at most ``MAX_THREADS`` threads).
The run fails with States.ExceedToleratedFailureThreshold once more children failed than
ToleratedFailureCount or ToleratedFailurePercentage allow (default 0: any failure); it then
stops starting children and aborts the running ones. Without ResultWriter the output is the
children's outputs in item order (a failed child's full execution result in its place: the
ResultWriter page says failed children are returned untransformed); with it, the results go to
S3 and the output is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.
Parent history (as AWS records it): MapStateEntered, MapStateStarted (length 0), MapRunStarted
(mapRunArn), MapRunSucceeded / MapRunFailed (error, cause) / MapRunAborted, MapStateSucceeded /
MapStateFailed, MapStateExited. A redrive of the parent redrives the Map Run (MapRunRedriven
instead of MapRunStarted, same ARN): only its unsuccessful children run again
(``map_run_redrive``).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lake.asl import map_io
from lake.asl.errors import STATES_EXCEED_TOLERATED_FAILURE, StatesError
from lake.asl.history import History, context_time, parse_event_time, to_json
from lake.asl.map_definition import processor_of
from lake.asl.map_items import count_field, items_at, select_item
from lake.asl.map_run_redrive import child_run_of, finish_child, previous_map_run, redrive_child
from lake.asl.model import Stopped
from lake.asl.observer import ChildExecution, MapRun
from lake.asl.parallel_state import shape_result

if TYPE_CHECKING:
    from lake.asl.resume import Resume
    from lake.asl.run import Run

MAX_THREADS = 64
_ENDED = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timedOut"}


def run_distributed(
    run: Run, name: str, state: dict, data: Any, resume: Resume | None = None
) -> Any:
    """One attempt of a Distributed Map state; return its output (StatesError on failure).
    ``resume``: the state's earlier attempt, when the parent execution is being redriven."""
    effective = run.input_path(state, data)
    run.history.add("MapStateStarted", {"length": 0})
    observer = run.services.observer
    fresh = _new_map_run(run, name, state, effective)
    redriven = previous_map_run(run, state, resume, fresh)
    if redriven is None:
        mapped, children = fresh, None
        run.history.add("MapRunStarted", {"mapRunArn": mapped.map_run_arn})
    else:
        mapped, children = redriven
        details = {"mapRunArn": mapped.map_run_arn, "redriveCount": mapped.redrive_count}
        run.history.add("MapRunRedriven", details)
    observer.map_run_started(mapped)
    try:
        if not children:  # a new Map Run, or one that had not read its items
            children = _children(run, mapped, _read(run, name, state, effective))
            observer.children_planned(mapped, children)
        _run_children(run, state, mapped, children)
        result = _results(run, name, state, effective, mapped, children)
        if _exceeded(mapped, len(children), state):
            raise StatesError(
                STATES_EXCEED_TOLERATED_FAILURE,
                "The specified tolerated failure threshold was exceeded",
            )
    except StatesError as error:
        _end(run, mapped, "FAILED", error)
        run.history.add("MapRunFailed", _error_details(error))
        run.history.add("MapStateFailed")
        raise
    except Stopped as stop:
        _end(run, mapped, "ABORTED")
        run.history.add("MapRunAborted")
        if stop.status == "ABORTED":
            run.history.add("MapStateAborted")
        raise
    _end(run, mapped, "SUCCEEDED")
    run.history.add("MapRunSucceeded")
    run.history.add("MapStateSucceeded")
    return shape_result(run, state, data, result)


def _read(run: Run, name: str, state: dict, effective: Any) -> list:
    """The children's inputs: the items (ItemReader or ItemsPath) through ItemSelector, then
    ItemBatcher."""
    reader = state.get("ItemReader")
    if reader is not None:
        config = reader.get("ReaderConfig", {})
        max_items = count_field(run, config, effective, "MaxItems")
        items = map_io.read_items(run, name, reader, effective, max_items)
    else:
        items = items_at(run, state, effective)
    inputs = [select_item(run, state, effective, i, item) for i, item in enumerate(items)]
    batcher = state.get("ItemBatcher")
    if batcher is not None:
        sizes = (
            count_field(run, batcher, effective, "MaxItemsPerBatch"),
            count_field(run, batcher, effective, "MaxInputBytesPerBatch"),
        )
        inputs = map_io.batches(run, batcher, effective, inputs, sizes)
    return inputs


def _children(run: Run, mapped: MapRun, inputs: list) -> list[ChildExecution]:
    """One child execution per input, in item order, all PENDING."""
    base = mapped.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
    names = [str(uuid.UUID(int=run.rng.getrandbits(128), version=4)) for _ in inputs]
    return [
        ChildExecution(
            execution_arn=f"{base}:{child_name}",
            name=child_name,
            state_machine_arn=mapped.state_machine_arn,
            map_run_arn=mapped.map_run_arn,
            parent_execution_arn=mapped.execution_arn,
            index=index,
            input=value,
            status="PENDING",
        )
        for index, (child_name, value) in enumerate(zip(names, inputs, strict=True))
    ]


def _error_details(error: StatesError) -> dict:
    details = {"error": error.error}
    if error.cause is not None:
        details["cause"] = error.cause
    return details


def _new_map_run(run: Run, name: str, state: dict, effective: Any) -> MapRun:
    machine_arn = run.context["StateMachine"]["Id"]
    label = state.get("Label", name)
    run_id = str(uuid.UUID(int=run.rng.getrandbits(128), version=4))
    return MapRun(
        map_run_arn=f"{machine_arn.replace(':stateMachine:', ':mapRun:', 1)}/{label}:{run_id}",
        execution_arn=run.context["Execution"]["Id"],
        state_name=name,
        state_machine_arn=f"{machine_arn}/{label}",
        max_concurrency=int(count_field(run, state, effective, "MaxConcurrency") or 0),
        tolerated_failure_percentage=float(
            count_field(run, state, effective, "ToleratedFailurePercentage") or 0
        ),
        tolerated_failure_count=int(
            count_field(run, state, effective, "ToleratedFailureCount") or 0
        ),
        start_date=run.clock(),
    )


def _exceeded(mapped: MapRun, total: int, state: dict) -> bool:
    """Step Functions guide, "Setting failure thresholds for Distributed Map states": the run
    fails when failed (or timed-out, aborted) children exceed the count or the percentage set;
    with neither set, any failure fails it."""
    failed = sum(mapped.execution_counts[k] for k in ("failed", "timedOut", "aborted"))
    checks = []
    if "ToleratedFailureCount" in state or "ToleratedFailureCountPath" in state:
        checks.append(failed > mapped.tolerated_failure_count)
    if "ToleratedFailurePercentage" in state or "ToleratedFailurePercentagePath" in state:
        checks.append(100.0 * failed / max(total, 1) > mapped.tolerated_failure_percentage)
    return any(checks) if checks else failed > 0


def _run_children(run: Run, state: dict, mapped: MapRun, children: list[ChildExecution]) -> None:
    """Run every child that has not succeeded yet, MaxConcurrency at a time (a redrive's earlier
    children from the state they stopped in)."""
    batched = "ItemBatcher" in state
    sizes = {child.index: (len(child.input["Items"]) if batched else 1) for child in children}
    todo = [child for child in children if child.status != "SUCCEEDED"]
    kept = len(children) - len(todo)
    mapped.execution_counts.update(total=len(children), pending=len(todo), succeeded=kept)
    mapped.item_counts.update(
        total=sum(sizes.values()),
        pending=sum(sizes[c.index] for c in todo),
        succeeded=sum(sizes[c.index] for c in children if c.status == "SUCCEEDED"),
    )
    for counts in (mapped.execution_counts, mapped.item_counts):
        counts.update(running=0, failed=0, timedOut=0, aborted=0)
    lock = threading.Lock()
    stop = threading.Event()
    processor = processor_of(state)

    def count(child: ChildExecution, before: str, after: str) -> None:
        size = sizes[child.index]
        with lock:
            for counts, step in ((mapped.execution_counts, 1), (mapped.item_counts, size)):
                counts[before] -= step
                counts[after] += step
            if after in ("failed", "timedOut", "aborted") and _exceeded(
                mapped, len(children), state
            ):
                stop.set()
        run.services.observer.map_run_changed(mapped)

    def work(child: ChildExecution) -> None:
        if stop.is_set() or (run.cancel is not None and run.cancel.is_set()):
            return
        earlier = child.status != "PENDING"
        child.status = "RUNNING"
        count(child, "pending", "running")
        if earlier:
            redrive_child(run, child, processor, stop)
        else:
            _run_child(run, child, processor, stop)
        count(child, "running", _ENDED.get(child.status, "aborted"))

    limit = mapped.max_concurrency or MAX_THREADS
    with ThreadPoolExecutor(max(1, min(limit, MAX_THREADS, len(todo) or 1))) as pool:
        list(pool.map(work, todo))
    run.check_stop()


def _run_child(run: Run, child: ChildExecution, processor: dict, stop: threading.Event) -> None:
    observer = run.services.observer
    history = History(run.clock, lambda event: observer.child_event(child, event))
    observer.child_started(child)
    started = history.add(
        "ExecutionStarted",
        {
            "input": to_json(child.input),
            "inputDetails": {"truncated": False},
            "roleArn": run.context["Execution"].get("RoleArn", ""),
        },
    )
    child.start_date = parse_event_time(started["timestamp"])
    child_run = child_run_of(run, child, processor, stop, history, redrive_count=0)
    finish_child(child, child_run.execute(processor["StartAt"], child.input), observer)


def _record(child: ChildExecution) -> dict:
    """A child's result as ResultWriter writes it (the NONE transformation)."""
    record: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": to_json(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
        "StartDate": context_time(child.start_date) if child.start_date else None,
        "StateMachineArn": child.state_machine_arn,
        "Status": child.status,
        "StopDate": context_time(child.stop_date) if child.stop_date else None,
    }
    if child.status == "SUCCEEDED":
        record["Output"] = to_json(child.output)
        record["OutputDetails"] = {"Included": True}
    else:
        record["Error"], record["Cause"] = child.error, child.cause
    return record


def _results(
    run: Run, name: str, state: dict, effective: Any, mapped: MapRun, children: list
) -> Any:
    writer = state.get("ResultWriter", {})
    transformation = writer.get("WriterConfig", {}).get(
        "Transformation", "NONE" if "Resource" in writer else "COMPACT"
    )

    def shaped(child: ChildExecution) -> Any:
        if child.status != "SUCCEEDED" or transformation == "NONE":
            return _record(child)
        return child.output

    if "Resource" not in writer:
        outputs = [shaped(child) for child in children if child.status != "PENDING"]
        if transformation == "FLATTEN":
            return [x for out in outputs for x in (out if isinstance(out, list) else [out])]
        return outputs
    records: dict[str, list[dict]] = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
    for child in children:
        status = child.status if child.status in ("SUCCEEDED", "PENDING") else "FAILED"
        records[status].append(shaped(child) if status == "SUCCEEDED" else _record(child))
    map_run_id = mapped.map_run_arn.rsplit(":", 1)[-1]
    details = map_io.write_results(
        run, name, writer, effective, map_run_id, mapped.map_run_arn, records
    )
    mapped.execution_counts["resultsWritten"] = sum(len(v) for v in records.values())
    mapped.item_counts["resultsWritten"] = mapped.execution_counts["resultsWritten"]
    return {"MapRunArn": mapped.map_run_arn, "ResultWriterDetails": details}


def _end(run: Run, mapped: MapRun, status: str, error: StatesError | None = None) -> None:
    mapped.status = status
    mapped.stop_date = run.clock()
    if error is not None:
        mapped.error, mapped.cause = error.error, error.cause
    run.services.observer.map_run_ended(mapped)
