"""Intrinsic functions (``States.Format(...)`` and friends): parsing and evaluation.

Parsing happens when the definition is loaded, so an unknown function, a wrong number of
arguments or a malformed string literal is refused before anything runs. Evaluation errors at
run time (a path that selects nothing, an argument of the wrong type) are States.Runtime errors,
which AWS never retries or catches.

Argument syntax, as Step Functions parses it: string literals in single quotes where ``\\'``,
``\\{``, ``\\}`` and ``\\\\`` are the only escapes (any other backslash is an error), numbers,
``true``/``false``/``null``, paths (``$.x``, ``$$.Execution.Name``) and nested calls (at most
10 deep).

One module over 350 lines because it is one thing: Step Functions' intrinsic functions, their
argument parser and their table (each function a few lines beside its AWS rules).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lake.asl.errors import STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.paths import Path, PathNotFound, parse_path

_MAX_NESTING = 10
_MAX_STRING = 10_000  # AWS's input limit for Base64Encode/Decode and Hash
_MAX_ARRAY_RANGE = 1_000
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_HASHES = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
_MANY = 1 << 30


@dataclass(frozen=True)
class Literal:
    """A literal argument; for strings ``raw`` keeps the escapes (States.Format needs them)."""

    value: Any
    raw: str | None = None


@dataclass(frozen=True)
class PathArgument:
    """A ``$...`` or ``$$...`` argument."""

    path: Path


@dataclass(frozen=True)
class Call:
    """An intrinsic function call with its parsed arguments and its source text."""

    name: str
    args: tuple[Literal | PathArgument | Call, ...]
    text: str


Argument = Literal | PathArgument | Call


def is_intrinsic(text: Any) -> bool:
    """Whether a ``.$`` value is an intrinsic function call rather than a path."""
    return isinstance(text, str) and text.startswith("States.")


def parse_intrinsic(text: str) -> Call:
    """Parse an intrinsic call; raise ValueError naming what is wrong or unsupported."""
    parser = _Parser(text)
    call = parser.call(depth=1)
    parser.skip_space()
    if parser.position != len(text):
        raise ValueError(f"unexpected '{text[parser.position :]}' after {call.name}(...)")
    return call


def evaluate(call: Call, data: Any, context: dict, rng: random.Random) -> Any:
    """The value of ``call`` for this state's data and context object.

    Raises StatesError(States.Runtime) when a path selects nothing or an argument is invalid.
    """
    args = [_argument_value(arg, data, context, rng) for arg in call.args]
    try:
        return _FUNCTIONS[call.name][2](call, args, rng)
    except _ArgumentError as error:
        raise StatesError(
            STATES_RUNTIME, f"The function '{call.text}' had the following error: {error}"
        ) from error


class _ArgumentError(ValueError):
    pass


def _argument_value(arg: Argument, data: Any, context: dict, rng: random.Random) -> Any:
    if isinstance(arg, Literal):
        return arg.value
    if isinstance(arg, Call):
        return evaluate(arg, data, context, rng)
    try:
        return arg.path.read(context if arg.path.context else data)
    except PathNotFound as error:
        raise StatesError(STATES_RUNTIME, str(error)) from error


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def call(self, depth: int) -> Call:
        if depth > _MAX_NESTING:
            raise ValueError(f"intrinsic functions nest deeper than {_MAX_NESTING}")
        start = self.position
        match = _NAME.match(self.text, self.position)
        if not match:
            raise ValueError(f"expected an intrinsic function at '{self.text[start:]}'")
        name = match.group(0)
        if name not in _FUNCTIONS:
            raise ValueError(f"intrinsic function '{name}' is not supported by the local runtime")
        self.position = match.end()
        self.skip_space()
        self.expect("(")
        args: list[Argument] = []
        self.skip_space()
        if self.peek() == ")":
            self.position += 1
        else:
            while True:
                self.skip_space()
                args.append(self.argument(depth))
                self.skip_space()
                if self.peek() == ",":
                    self.position += 1
                    continue
                self.expect(")")
                break
        call = Call(name=name, args=tuple(args), text=self.text[start : self.position])
        low, high, _ = _FUNCTIONS[name]
        if not low <= len(args) <= high:
            wanted = (
                str(low) if low == high else f"{low} or more" if high == _MANY else f"{low}-{high}"
            )
            raise ValueError(f"{name} takes {wanted} argument(s), got {len(args)} in '{call.text}'")
        if name == "States.Format" and isinstance(args[0], Literal):
            placeholders = len(_format_pieces(args[0])) - 1
            if placeholders != len(args) - 1:
                raise ValueError(
                    f"States.Format has {placeholders} '{{}}' but {len(args) - 1} value(s) "
                    f"in '{call.text}'"
                )
        return call

    def argument(self, depth: int) -> Argument:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return PathArgument(parse_path(self.path_text()))
        if self.text.startswith("States.", self.position):
            return self.call(depth + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.position):
                self.position += len(word)
                return Literal(value)
        match = _NUMBER.match(self.text, self.position)
        if match:
            self.position = match.end()
            number = match.group(0)
            return Literal(float(number) if any(c in number for c in ".eE") else int(number))
        raise ValueError(f"unexpected argument at '{self.text[self.position :]}'")

    def string(self) -> Literal:
        self.position += 1
        raw_start = self.position
        value: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                raise ValueError(f"unterminated string literal in '{self.text}'")
            if char == "'":
                raw = self.text[raw_start : self.position]
                self.position += 1
                return Literal("".join(value), raw=raw)
            if char == "\\":
                escaped = self.text[self.position + 1 : self.position + 2]
                if escaped not in ("'", "{", "}", "\\"):
                    raise ValueError(
                        f"open escape '\\{escaped}' in '{self.text}' (only \\', \\{{, \\}} and "
                        "\\\\ are escapes)"
                    )
                value.append(escaped)
                self.position += 2
                continue
            value.append(char)
            self.position += 1

    def path_text(self) -> str:
        # A path ends at the first ',' or ')' that is not inside brackets or quotes.
        start = self.position
        depth = 0
        quote = ""
        while self.position < len(self.text):
            char = self.text[self.position]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and depth:
                quote = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            elif char in ",)" and not depth:
                break
            self.position += 1
        return self.text[start : self.position].strip()

    def peek(self) -> str:
        return self.text[self.position : self.position + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected '{char}' at '{self.text[self.position :]}'")
        self.position += 1


def _format_pieces(template: Literal | str) -> list[str]:
    """The literal text around each ``{}``; escaped braces in a literal are not placeholders."""
    if isinstance(template, str):
        return template.split("{}")
    raw = template.raw or ""
    pieces: list[str] = [""]
    index = 0
    while index < len(raw):
        if raw[index] == "\\":
            pieces[-1] += raw[index + 1]
            index += 2
        elif raw.startswith("{}", index):
            pieces.append("")
            index += 2
        else:
            pieces[-1] += raw[index]
            index += 1
    return pieces


def _format_value(value: Any) -> str:
    # Step Functions runs on the JVM: objects and arrays are printed the way Java prints maps
    # and lists, scalars as their JSON text, strings as they are.
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_format_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _format(call: Call, args: list, rng: random.Random) -> str:
    template = call.args[0] if isinstance(call.args[0], Literal) else args[0]
    if not isinstance(template, Literal | str):
        raise _ArgumentError("the first argument must be a string")
    if isinstance(template, Literal) and not isinstance(template.value, str):
        raise _ArgumentError("the first argument must be a string")
    pieces = _format_pieces(template)
    values = args[1:]
    if len(pieces) - 1 != len(values):
        raise _ArgumentError(f"{len(pieces) - 1} '{{}}' but {len(values)} value(s)")
    out = pieces[0]
    for value, piece in zip(values, pieces[1:], strict=True):
        out += _format_value(value) + piece
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any, what: str) -> int:
    if not _is_number(value):
        raise _ArgumentError(f"{what} must be a number, got {json.dumps(value)}")
    if isinstance(value, float):
        # Java's Math.round, as Step Functions (on the JVM) rounds: floor(x + 0.5), so halves
        # go towards positive infinity: 1.5 -> 2 and -1.5 -> -1 (not away from zero).
        return math.floor(value + 0.5)
    return value


def _string(value: Any, what: str, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise _ArgumentError(f"{what} must be a string, got {json.dumps(value)}")
    if limit is not None and len(value) > limit:
        raise _ArgumentError(f"{what} is longer than {limit} characters")
    return value


def _array(value: Any, what: str = "the argument") -> list:
    if not isinstance(value, list):
        raise _ArgumentError(f"{what} must be an array, got {json.dumps(value)}")
    return value


def same_json(left: Any, right: Any) -> bool:
    """JSON equality: unlike Python's ==, ``true`` is not ``1`` and ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right


def _string_to_json(call: Call, args: list, rng: random.Random) -> Any:
    text = _string(args[0], "the argument")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _ArgumentError(f"the argument is not JSON text: {error}") from error


def _partition(call: Call, args: list, rng: random.Random) -> list:
    array = _array(args[0])
    size = _integer(args[1], "the chunk size")
    if size <= 0:
        raise _ArgumentError("the chunk size must be a positive integer")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _range(call: Call, args: list, rng: random.Random) -> list:
    start, end, step = (_integer(value, "each argument") for value in args)
    if step <= 0:
        raise _ArgumentError("the step must be a positive integer")
    values = list(range(start, end + 1, step))
    if len(values) > _MAX_ARRAY_RANGE:
        raise _ArgumentError(f"the range has more than {_MAX_ARRAY_RANGE} items")
    return values


def _get_item(call: Call, args: list, rng: random.Random) -> Any:
    array = _array(args[0])
    index = _integer(args[1], "the index")
    if not 0 <= index < len(array):
        raise _ArgumentError(f"index {index} is out of bounds for an array of {len(array)}")
    return array[index]


def _unique(call: Call, args: list, rng: random.Random) -> list:
    unique: list = []
    for item in _array(args[0]):
        if not any(same_json(item, seen) for seen in unique):
            unique.append(item)
    return unique


def _base64_decode(call: Call, args: list, rng: random.Random) -> str:
    text = _string(args[0], "the argument", _MAX_STRING)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError) as error:
        raise _ArgumentError(f"the argument is not Base64 text: {error}") from error


def _hash(call: Call, args: list, rng: random.Random) -> str:
    data = _string(args[0], "the data", _MAX_STRING)
    algorithm = args[1]
    if algorithm not in _HASHES:
        raise _ArgumentError(
            f"unknown algorithm {json.dumps(algorithm)} (use {', '.join(_HASHES)})"
        )
    return _HASHES[algorithm](data.encode("utf-8")).hexdigest()


def _json_merge(call: Call, args: list, rng: random.Random) -> dict:
    first, second, deep = args
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise _ArgumentError("both values to merge must be objects")
    if deep is not False:
        # AWS supports only shallow merging: the third argument must be false.
        raise _ArgumentError("the third argument must be false (only shallow merge exists)")
    return {**first, **second}


def _math_random(call: Call, args: list, rng: random.Random) -> int:
    start = _integer(args[0], "the start")
    end = _integer(args[1], "the end")
    source = random.Random(_integer(args[2], "the seed")) if len(args) == 3 else rng
    if end <= start:
        raise _ArgumentError("the end must be greater than the start")
    return source.randrange(start, end)


def _string_split(call: Call, args: list, rng: random.Random) -> list[str]:
    text = _string(args[0], "the string")
    delimiters = _string(args[1], "the delimiter")
    if not delimiters:
        return [text]
    # Every character of the second argument is a delimiter; empty pieces are dropped.
    pieces = re.split("|".join(re.escape(char) for char in delimiters), text)
    return [piece for piece in pieces if piece]


def _uuid(call: Call, args: list, rng: random.Random) -> str:
    # Drawn from the executor's rng so that a seeded test is reproducible.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_Function = Callable[[Call, list, random.Random], Any]

_FUNCTIONS: dict[str, tuple[int, int, _Function]] = {
    "States.Format": (1, _MANY, _format),
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (
        1,
        1,
        lambda call, args, rng: to_json(args[0]),
    ),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.Array": (0, _MANY, lambda call, args, rng: list(args)),
    "States.ArrayPartition": (2, 2, _partition),
    "States.ArrayContains": (
        2,
        2,
        lambda call, args, rng: any(same_json(item, args[1]) for item in _array(args[0])),
    ),
    "States.ArrayRange": (3, 3, _range),
    "States.ArrayGetItem": (2, 2, _get_item),
    "States.ArrayLength": (1, 1, lambda call, args, rng: len(_array(args[0]))),
    "States.ArrayUnique": (1, 1, _unique),
    "States.Base64Encode": (
        1,
        1,
        lambda call, args, rng: base64.b64encode(
            _string(args[0], "the argument", _MAX_STRING).encode("utf-8")
        ).decode("ascii"),
    ),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (
        2,
        2,
        lambda call, args, rng: (
            _integer(args[0], "the first value") + _integer(args[1], "the second value")
        ),
    ),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, _uuid),
}

SUPPORTED_FUNCTIONS = frozenset(_FUNCTIONS)

# The intrinsics AWS accepts in a Fail state's ErrorPath/CausePath (they return strings).
STRING_FUNCTIONS = frozenset(
    {
        "States.Format",
        "States.JsonToString",
        "States.ArrayGetItem",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.UUID",
    }
)
