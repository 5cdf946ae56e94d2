"""InputPath, Parameters, ResultSelector, ResultPath, OutputPath and the context object,
on the examples of the Step Functions guide ("Processing input and output")."""

from __future__ import annotations

import pytest
from asl_support import EXECUTION_ARN, LAMBDA, STATE_MACHINE_ARN, Script, definition, run, task

from lake.asl.paths import parse_path


def test_input_result_and_output_path_example_from_the_guide():
    # GIVEN the guide's input and a task that greets whoever is in $.lambda
    given = {
        "comment": "An input comment.",
        "data": {"val1": 23, "val2": 17},
        "extra": "foo",
        "lambda": {"who": "AWS Step Functions"},
    }
    machine = definition(
        {"Greet": task(InputPath="$.lambda", ResultPath="$.data.lambdaresult", OutputPath="$.data")}
    )
    greet = Script(lambda request: f"Hello, {request.parameters['who']}!")
    # WHEN it runs
    result = run(machine, {LAMBDA: greet}, given)
    # THEN the task saw only $.lambda, and the output is $.data with the result added
    assert greet.requests[0].parameters == {"who": "AWS Step Functions"}
    assert result.output == {"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}


def test_parameters_example_from_the_guide():
    given = {
        "comment": "Example for Parameters.",
        "product": {
            "details": {"color": "blue", "size": "small", "material": "cotton"},
            "availability": "in stock",
            "sku": "2317",
            "cost": "$23",
        },
    }
    parameters = {
        "comment": "Selecting what I care about.",
        "MyDetails": {
            "size.$": "$.product.details.size",
            "exists.$": "$.product.availability",
            "StaticValue": "foo",
        },
    }
    work = Script("ok")
    run(definition({"Work": task(Parameters=parameters)}), {LAMBDA: work}, given)
    assert work.requests[0].parameters == {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
    }


def test_result_selector_example_from_the_guide():
    result_of_task = {
        "resourceType": "elasticmapreduce",
        "resource": "createCluster.sync",
        "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"},
    }
    machine = definition(
        {
            "Work": task(
                ResultSelector={
                    "ClusterId.$": "$.output.ClusterId",
                    "ResourceType.$": "$.resourceType",
                },
                ResultPath="$.EMROutput",
            )
        }
    )
    result = run(machine, {LAMBDA: Script(result_of_task)}, {"cluster": "mine"})
    assert result.output == {
        "cluster": "mine",
        "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"},
    }


def test_result_path_null_discards_the_result_and_output_path_null_sends_an_empty_object():
    machine = definition(
        {
            "Keep": task(ResultPath=None, Next="Empty"),
            "Empty": {"Type": "Pass", "OutputPath": None, "End": True},
        }
    )
    result = run(machine, {LAMBDA: Script({"ignored": True})}, {"kept": 1})
    assert [
        e["stateExitedEventDetails"]["output"]
        for e in result.events
        if e["type"].endswith("Exited")
    ] == [
        '{"kept":1}',
        "{}",
    ]


def test_result_path_creates_missing_objects_on_the_way():
    machine = definition({"Work": task(ResultPath="$.a.b.c")})
    assert run(machine, {LAMBDA: Script(5)}, {"x": 1}).output == {"x": 1, "a": {"b": {"c": 5}}}


def test_result_path_that_cannot_be_applied_is_a_result_path_match_failure():
    machine = definition({"Work": task(ResultPath="$.field")})
    result = run(machine, {LAMBDA: Script(5)}, "a string, not an object")
    assert result.error == "States.ResultPathMatchFailure"


def test_input_path_that_selects_nothing_is_states_runtime_with_aws_message():
    result = run(definition({"Work": task(InputPath="$.Payload")}), {LAMBDA: Script("x")}, {"a": 1})
    assert result.error == "States.Runtime"
    # AWS prefixes a runtime error's cause with the state and its Entered event's id
    assert result.cause == (
        "An error occurred while executing the state 'Work' (entered at the event id #2). "
        "Invalid path '$.Payload' : No results for path: $['Payload']"
    )


def test_parameters_path_that_selects_nothing_names_the_field_and_the_input():
    machine = definition({"Check": task(Parameters={"address.$": "$.application.address"})})
    result = run(machine, {LAMBDA: Script("x")}, {"flagged": False})
    assert result.error == "States.Runtime"
    assert result.cause == (
        "An error occurred while executing the state 'Check' (entered at the event id #2). "
        "The JSONPath '$.application.address' specified for the field 'address.$' could not be "
        "found in the input '{\"flagged\":false}'"
    )


def test_context_object_fields_reach_parameters():
    parameters = {
        "execution.$": "$$.Execution.Id",
        "name.$": "$$.Execution.Name",
        "input.$": "$$.Execution.Input",
        "redrives.$": "$$.Execution.RedriveCount",
        "state.$": "$$.State.Name",
        "machine.$": "$$.StateMachine.Name",
        "machine_arn.$": "$$.StateMachine.Id",
        "started.$": "$$.Execution.StartTime",
        "entered.$": "$$.State.EnteredTime",
    }
    work = Script("ok")
    run(definition({"Look": task(Parameters=parameters)}), {LAMBDA: work}, {"k": "v"}, name="run-1")
    seen = work.requests[0].parameters
    assert seen["execution"] == EXECUTION_ARN
    assert (seen["name"], seen["input"], seen["redrives"]) == ("run-1", {"k": "v"}, 0)
    assert (seen["state"], seen["machine"], seen["machine_arn"]) == (
        "Look",
        "tiny",
        STATE_MACHINE_ARN,
    )
    # ISO 8601 in UTC with milliseconds, as in the guide's example "2019-03-26T20:14:13.192Z"
    assert seen["started"].endswith("Z") and len(seen["started"]) == len("2019-03-26T20:14:13.192Z")
    assert work.requests[0].context["State"]["Name"] == "Look"


def test_bracket_and_index_steps_are_read():
    machine = definition(
        {"Work": task(Parameters={"v.$": "$['odd key'].list[1]", "w.$": "$.list[-1]"})}
    )
    work = Script("ok")
    run(machine, {LAMBDA: work}, {"odd key": {"list": [1, 2]}, "list": ["a", "z"]})
    assert work.requests[0].parameters == {"v": 2, "w": "z"}


@pytest.mark.parametrize(
    "path", ["$.a.length()", "a.b", "$.a[?(@.x =~ /re/)]", "$['a','b']", "$.a[::2]"]
)
def test_path_syntax_outside_the_supported_subset_is_refused(path):
    with pytest.raises(ValueError):
        parse_path(path)
