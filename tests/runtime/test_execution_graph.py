"""`lake describe --graph`: the workflow drawn with each state coloured by what happened,
from the history of a real run of the real definition (integrations answer from the test)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from conftest import load_event

from lake.asl import Executor, TaskFailure
from lake.aws import (
    ATHENA_START_QUERY_SYNC,
    GLUE_START_JOB_RUN_SYNC,
    LAMBDA_INVOKE,
    S3_GET_OBJECT,
)
from lake.home import LakeHome
from lake.runtime.engine import load_workflow
from lake.ui.graph import COLOURS, render_svg, state_order
from lake.ui.timeline import CAUGHT, FAILED, NOT_REACHED, SUCCEEDED, read_timeline

SVG = "{http://www.w3.org/2000/svg}"


def _history(tmp_path, transform_failures: list[str]) -> tuple:
    home = LakeHome(tmp_path)
    definition = load_workflow(home)
    failures = list(transform_failures)

    def transform(request):
        if failures:
            raise TaskFailure(failures.pop(0), json.dumps({"JobRunState": "FAILED"}))
        return {"Id": "jr_1", "JobRunState": "SUCCEEDED", "ExecutionTime": 3}

    integrations = {
        LAMBDA_INVOKE: lambda r: {
            "Payload": {
                "bucket": "b",
                "key": "k",
                "city": "c",
                "source_path": "s3://b/k",
                "size": 1,
            }
        },
        GLUE_START_JOB_RUN_SYNC: transform,
        S3_GET_OBJECT: lambda r: {
            "Body": json.dumps({"register_statements": ["manifests/x/register-0001.sql"]})
            if r.parameters["Key"].endswith("summary.json")
            else "ALTER TABLE t ADD IF NOT EXISTS PARTITION (city='c', year=1, month=1, day=1)"
        },
        ATHENA_START_QUERY_SYNC: lambda r: {
            "QueryExecution": {"QueryExecutionId": "q", "Status": {"State": "SUCCEEDED"}}
        },
    }
    events: list[dict] = []
    Executor(definition, integrations, on_event=events.append, time_scale=0).start(
        execution_arn="arn:aws:states:us-east-1:0:execution:sm:x",
        name="x",
        input=load_event("s3_object_created"),
        state_machine_arn="arn:aws:states:us-east-1:0:stateMachine:sm",
    )
    names = state_order(definition.states, definition.start_at)
    return definition, read_timeline(events, names)


def _box_strokes(svg: str) -> dict[str, str]:
    root = ET.fromstring(svg)
    strokes = {}
    for group in root.iter(f"{SVG}g"):
        name = group.find(f"{SVG}text").text
        strokes[name] = group.find(f"{SVG}rect").get("stroke")
    return strokes


def test_a_failure_at_transform_is_red_what_ran_before_green_the_rest_grey(tmp_path):
    # GIVEN a run whose Glue job fails for good
    definition, timeline = _history(tmp_path, ["States.TaskFailed"])
    # WHEN it is drawn
    svg = render_svg(definition.states, definition.start_at, timeline, "x — FAILED")
    # THEN each state's box has the colour of what happened to it, in workflow order
    strokes = _box_strokes(svg)
    assert list(strokes) == ["Validate", "Transform", "ReadManifest", "RegisterPartitions"]
    assert strokes == {
        "Validate": COLOURS[SUCCEEDED][0],
        "Transform": COLOURS[FAILED][0],
        "ReadManifest": COLOURS[NOT_REACHED][0],
        "RegisterPartitions": COLOURS[NOT_REACHED][0],
    }


def test_a_retried_state_that_then_succeeded_is_amber(tmp_path):
    definition, timeline = _history(tmp_path, ["Glue.ThrottlingException"])
    strokes = _box_strokes(render_svg(definition.states, definition.start_at, timeline, "x"))
    assert timeline.status == "SUCCEEDED"
    assert strokes["Transform"] == COLOURS[CAUGHT][0]
    assert strokes["RegisterPartitions"] == COLOURS[SUCCEEDED][0]
    assert timeline.states["Transform"].attempts == 2


def _texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text]


def test_a_distributed_map_is_drawn_with_its_item_processor_and_its_map_runs_counts(tmp_path):
    from lake.runtime.engine import workflow_files

    home = LakeHome(tmp_path)
    definition = load_workflow(
        home, workflow_files(home)[home.settings.backfill_state_machine_name]
    )
    names = state_order(definition.states, definition.start_at)
    counts = {"succeeded": 4, "failed": 1, "running": 0, "total": 5}
    svg = render_svg(
        definition.states,
        definition.start_at,
        read_timeline([], names),
        "backfill",
        map_runs={"ReprocessFiles": counts},
    )
    texts = _texts(svg)
    # the Map's box holds the states each item runs, and its Map Run's item counts
    assert "each item (distributed)" in texts
    for inner in ("IsExport", "OnlyFailed", "ReadCommitRecord", "Ingest", "AlreadyPublished"):
        assert inner in texts
    assert "items: 4 succeeded, 1 failed of 5" in texts
    # and the top-level boxes are still the top-level states, in workflow order
    assert list(_box_strokes(svg)) == names


def test_a_parallel_state_is_drawn_with_its_branches_side_by_side():
    states = {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "End": True,
        }
    }
    svg = render_svg(states, "Both", read_timeline([], ["Both"]), "parallel")
    root = ET.fromstring(svg)
    x_of = {t.text: float(t.get("x")) for t in root.iter(f"{SVG}text") if t.text}
    y_of = {t.text: float(t.get("y")) for t in root.iter(f"{SVG}text") if t.text}
    assert x_of["Left"] < x_of["Right"] and y_of["Left"] == y_of["Right"]
    assert "branches" in x_of
