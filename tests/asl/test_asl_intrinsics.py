"""Intrinsic functions, on the examples of the Step Functions guide ("Intrinsic functions")."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from asl_support import LAMBDA, Script, definition, run, task

from lake.asl import UnsupportedDefinition
from lake.asl.intrinsics import evaluate, parse_intrinsic


def call(text: str, data=None, context=None):
    """Evaluate one intrinsic against ``data``."""
    return evaluate(parse_intrinsic(text), data or {}, context or {}, random.Random(3))


def test_format_interpolates_literals_and_paths():
    data = {"name": "Arnav", "template": "Hello, my name is {}."}
    assert (
        call("States.Format('Hello, my name is {}.', $.name)", data) == "Hello, my name is Arnav."
    )
    assert call("States.Format($.template, $.name)", data) == "Hello, my name is Arnav."


def test_format_honours_the_reserved_character_escapes():
    # \' is a quote, \{ and \} are braces (not a placeholder), \\ is a backslash.
    text = r"States.Format('it\'s \{literal\} {} C:\\dir', $.v)"
    assert call(text, {"v": 42}) == "it's {literal} 42 C:\\dir"


def test_format_prints_numbers_booleans_and_null_as_json():
    assert call("States.Format('{} {} {} {}', 1, 2.5, true, null)") == "1 2.5 true null"


def test_format_with_a_context_path():
    context = {"Execution": {"Name": "exec-7"}}
    assert call("States.Format('manifests/{}.json', $$.Execution.Name)", {}, context) == (
        "manifests/exec-7.json"
    )


def test_string_to_json_and_json_to_string():
    assert call("States.StringToJson($.s)", {"s": '{"foo": "bar"}'}) == {"foo": "bar"}
    assert call("States.JsonToString($.j)", {"j": {"foo": "bar"}}) == '{"foo":"bar"}'


def test_array_functions():
    assert call("States.Array($.Id)", {"Id": 123456}) == [123456]
    assert call("States.ArrayPartition($.a, 4)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9],
    ]
    assert call("States.ArrayContains($.a, $.v)", {"a": [1, 2, 3], "v": 3}) is True
    assert call("States.ArrayContains($.a, true)", {"a": [1]}) is False  # true is not 1 in JSON
    assert call("States.ArrayRange(1, 9, 2)") == [1, 3, 5, 7, 9]
    assert call("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5], "i": 5 - 1}) == 5
    assert call("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 9
    assert call("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 3, 3, 3, 4]}) == [1, 2, 3, 4]


def test_encoding_and_hashing():
    assert call("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert call("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    # the guide's example output, lowercase hex
    assert call("States.Hash('input data', 'SHA-1')") == "aaff4a450a104cd177d28d18d74485e8cae074b7"
    assert call("States.Hash('x', 'SHA-256')") == hashlib.sha256(b"x").hexdigest()


def test_math_and_strings():
    assert call("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}) == 110
    assert call("States.StringSplit($.s, $.d)", {"s": "1,2,3,4,5", "d": ","}) == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    # every character of the second argument is a delimiter
    assert call("States.StringSplit($.s, $.d)", {"s": "This.is+a,test=string", "d": ".+,="}) == [
        "This",
        "is",
        "a",
        "test",
        "string",
    ]
    assert 1 <= call("States.MathRandom(1, 999)") < 999


def test_json_merge_is_shallow():
    data = {"a": {"a1": 1, "a2": 2}, "b": {"a": {"a3": 1, "a4": 2}, "b1": 3}}
    assert call("States.JsonMerge($.a, $.b.a, false)", data) == {"a1": 1, "a2": 2, "a3": 1, "a4": 2}
    assert call("States.JsonMerge($.a, $.b, false)", data) == {
        "a1": 1,
        "a2": 2,
        "a": {"a3": 1, "a4": 2},
        "b1": 3,
    }


def test_uuid_is_a_version_4_uuid():
    value = call("States.UUID()")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
    )


def test_nested_calls():
    arn = "arn:aws:imagebuilder:us-east-1:111122223333:image-recipe/sample-recipe/1.0.0"
    # the guide's nesting pattern: split the ARN on '/', take the version, split it on '.'
    version = "States.StringSplit(States.ArrayGetItem(States.StringSplit($.Arn, '/'), 2), '.')"
    text = (
        f"States.Format('{{}}.{{}}', States.ArrayGetItem({version}, 0), "
        f"States.ArrayGetItem({version}, 1))"
    )
    assert call(text, {"Arn": arn}) == "1.0"


def test_intrinsics_run_inside_parameters_and_result_selector():
    machine = definition(
        {
            "Read": task(
                Parameters={"Key.$": "States.Format('manifests/{}.json', $$.Execution.Name)"},
                ResultSelector={"manifest.$": "States.StringToJson($.Body)"},
            )
        }
    )
    read = Script({"Body": '{"rows": 3}'})
    result = run(machine, {LAMBDA: read}, name="exec-9")
    assert read.requests[0].parameters == {"Key": "manifests/exec-9.json"}
    assert result.output == {"manifest": {"rows": 3}}


def test_an_intrinsic_that_fails_at_run_time_is_states_runtime():
    machine = definition({"Read": task(ResultSelector={"m.$": "States.StringToJson($.Body)"})})
    result = run(machine, {LAMBDA: Script({"Body": "not json"})})
    assert result.error == "States.Runtime"
    assert "States.StringToJson($.Body)" in result.cause


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("States.Nope($.a)", "not supported"),
        ("States.ArrayLength($.a, $.b)", "takes 1"),
        ("States.Format('{} {}', $.a)", "2 '{}' but 1"),
        (r"States.Format('bad \n escape')", "open escape"),
        ("States.Format('unterminated)", "unterminated"),
    ],
)
def test_bad_intrinsics_are_refused_when_the_definition_loads(text, reason):
    with pytest.raises(UnsupportedDefinition, match=re.escape(reason)):
        definition({"Work": task(Parameters={"v.$": text})})
