"""Step Functions guide, "Redriving Map Runs": redriving a parent whose Distributed Map's Map
Run failed redrives that Map Run (same ARN, a MapRunRedriven event with its redrive count);
its Standard child executions that failed, timed out or were aborted are redriven (same ARN,
from the state that did not finish, ExecutionRedriven in their history), those that succeeded
are not run again; items no child took yet run now. The runtime gives the earlier children
back through its MapRunObserver (``previous_children``); without them a new Map Run starts."""

from __future__ import annotations

import random

from asl_support import (
    GLUE,
    LAMBDA,
    StepWork,
    definition,
    details,
    redrive,
    run,
    task,
)

from lake.asl import MapRunObserver, TaskFailure

GET = "arn:aws:states:::s3:getObject"


class Keeper(MapRunObserver):
    """Keeps Map Runs and their children in memory, as a runtime's database would (the
    interpreter updates the children it planned in place as they run)."""

    def __init__(self) -> None:
        self.children: dict[str, list] = {}
        self.runs: dict[str, object] = {}

    def map_run_started(self, run):
        self.runs[run.map_run_arn] = run

    def children_planned(self, run, children):
        self.children[run.map_run_arn] = list(children)

    def previous_children(self, map_run_arn):
        if map_run_arn not in self.runs:
            return None
        return list(self.children.get(map_run_arn, []))


def _machine(**fields):
    return definition(
        {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"item.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Load",
                    "States": {
                        "Load": task(LAMBDA, ResultPath="$.loaded", Next="Save"),
                        "Save": task(GLUE, OutputPath="$.saved", ResultPath="$.saved"),
                    },
                },
                "End": True,
                **fields,
            }
        }
    )


def test_redriving_the_parent_redrives_only_the_unsuccessful_children_of_its_map_run():
    # GIVEN a Map Run whose child for b failed at Save (the run tolerates no failure)
    keeper = Keeper()
    work = StepWork(failing={("Save", "b")})
    integrations = {LAMBDA: work.step("Load"), GLUE: work.step("Save")}
    machine = _machine(MaxConcurrency=1)
    first = run(machine, integrations, {"items": ["a", "b", "c"]}, observer=keeper)
    assert (first.status, first.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    [arn] = [d["mapRunArn"] for d in details(first, "MapRunStarted")]
    # WHEN the cause is fixed and the parent redriven
    work.failing.clear()
    second = redrive(machine, integrations, first.events, observer=keeper, rng=random.Random(2))
    # THEN the same Map Run is redriven, and the execution succeeds with every output in order
    assert second.status == "SUCCEEDED", second.cause
    assert second.output == ["Save-a", "Save-b", "Save-c"]
    redriven = second.events[len(first.events) :]
    types = [e["type"] for e in redriven]
    assert types[:4] == [
        "ExecutionRedriven",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunRedriven",
    ]
    assert "MapRunStarted" not in types
    assert redriven[3]["mapRunRedrivenEventDetails"] == {"mapRunArn": arn, "redriveCount": 1}
    assert types[-4:] == [
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    # AND a, which had succeeded, did not run again; b continued at Save (not Load); c (never
    # started: the run had stopped) ran
    assert work.calls == {
        ("Load", "a"): 1,
        ("Save", "a"): 1,
        ("Load", "b"): 1,
        ("Save", "b"): 2,
        ("Load", "c"): 1,
        ("Save", "c"): 1,
    }
    # AND b's child execution kept its ARN and was redriven, its history continued
    [b] = [c for c in keeper.children[arn] if c.input == {"item": "b"}]
    kinds = [e["type"] for e in b.events]
    assert kinds.count("ExecutionStarted") == 1 and kinds.count("ExecutionRedriven") == 1
    assert kinds[-1] == "ExecutionSucceeded"
    assert b.status == "SUCCEEDED"
    # AND the Map Run counts every item, with its redrive count
    mapped = keeper.runs[arn]
    assert mapped.redrive_count == 1 and mapped.status == "SUCCEEDED"
    assert (mapped.item_counts["succeeded"], mapped.item_counts["total"]) == (3, 3)


def test_a_second_redrive_counts_the_map_runs_redrives():
    keeper = Keeper()
    work = StepWork(failing={("Load", "b")})
    integrations = {LAMBDA: work.step("Load"), GLUE: work.step("Save")}
    machine = _machine()
    first = run(machine, integrations, {"items": ["a", "b"]}, observer=keeper)
    second = redrive(
        machine, integrations, first.events, observer=keeper, rng=random.Random(2)
    )  # fails again
    assert second.status == "FAILED"
    work.failing.clear()
    third = redrive(machine, integrations, second.events, observer=keeper, rng=random.Random(2))
    assert third.status == "SUCCEEDED"
    counts = [d["redriveCount"] for d in details(third, "MapRunRedriven")]
    assert counts == [1, 2]
    assert work.calls[("Load", "a")] == 1 and work.calls[("Load", "b")] == 3


def test_without_the_earlier_children_a_new_map_run_starts_with_every_item():
    """A runtime that cannot give the children back (the base MapRunObserver): the redriven
    parent starts a new Map Run (MapRunStarted, a new ARN) over every item."""
    work = StepWork(failing={("Load", "b")})
    integrations = {LAMBDA: work.step("Load"), GLUE: work.step("Save")}
    machine = _machine()
    first = run(machine, integrations, {"items": ["a", "b"]})
    work.failing.clear()
    second = redrive(
        machine, integrations, first.events, observer=MapRunObserver(), rng=random.Random(2)
    )
    assert second.status == "SUCCEEDED"
    arns = [d["mapRunArn"] for d in details(second, "MapRunStarted")]
    assert len(arns) == 2 and arns[0] != arns[1]
    assert work.calls[("Load", "a")] == 2


def test_a_map_run_whose_item_reader_failed_reads_its_items_again_when_redriven():
    """ "Scenarios of input used on Map Run redrive": a Map Run that failed with
    States.ItemReaderFailed started no child; its redrive reads the items from S3."""
    keeper = Keeper()
    objects: dict[str, str] = {}

    def get_object(request):
        key = request.parameters["Key"]
        if key not in objects:
            raise TaskFailure("S3.NoSuchKey", "The specified key does not exist.")
        return {"Body": objects[key]}

    machine = definition(
        {
            "Fan": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": GET,
                    "Parameters": {"Bucket": "b", "Key": "items.json"},
                    "ReaderConfig": {"InputType": "JSON"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Echo",
                    "States": {"Echo": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        }
    )
    first = run(machine, {GET: get_object}, observer=keeper)
    assert (first.status, first.error) == ("FAILED", "States.ItemReaderFailed")
    objects["items.json"] = "[1, 2]"
    second = redrive(
        machine, {GET: get_object}, first.events, observer=keeper, rng=random.Random(2)
    )
    assert (second.status, second.output) == ("SUCCEEDED", [1, 2])
    assert len(details(second, "MapRunRedriven")) == 1


def test_a_redriven_map_run_keeps_the_items_of_its_original_attempt():
    """ "Scenarios of input used on Map Run redrive": a Map Run that failed after starting its
    children uses, redriven, the input of the original attempt, even if the object its
    ItemReader read has changed since."""
    keeper = Keeper()
    objects = {"items.json": '[{"item": "a"}, {"item": "b"}, {"item": "c"}]'}
    work = StepWork(failing={("Load", "b")})
    machine = definition(
        {
            "Fan": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": GET,
                    "Parameters": {"Bucket": "b", "Key": "items.json"},
                    "ReaderConfig": {"InputType": "JSON"},
                },
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Load",
                    "States": {"Load": task(LAMBDA)},
                },
                "End": True,
            }
        }
    )
    integrations = {
        GET: lambda r: {"Body": objects[r.parameters["Key"]]},
        LAMBDA: work.step("Load"),
    }
    first = run(machine, integrations, observer=keeper)
    assert first.status == "FAILED"
    objects["items.json"] = '[{"item": "a"}, {"item": "b"}, {"item": "c"}, {"item": "d"}]'
    work.failing.clear()
    second = redrive(machine, integrations, first.events, observer=keeper, rng=random.Random(2))
    assert second.output == ["Load-a", "Load-b", "Load-c"]
    assert work.calls == {("Load", "a"): 1, ("Load", "b"): 2, ("Load", "c"): 1}
