"""JSONPath as Step Functions evaluates it (Jayway JsonPath), for ASL's paths.

Step Functions guide, "Using JSONPath paths": a path may use Jayway's syntax where a Path is
allowed (InputPath, OutputPath, Parameters/ResultSelector/ItemSelector ``.$`` values, ...):
here ``.field``, ``['field']``, ``[n]``, wildcards ``.*`` and ``[*]``, slices ``[1:]``,
``[:2]``, ``[1:3]``, index lists ``[0,2]``, filters ``[?(@.x > 1)]`` and deep scan ``..field``.
A *reference path* (ResultPath, ItemsPath, Choice Variable, the ``...Path`` numbers) "can
identify only a single node": dot and bracket notation only, none of ``@ .. , : ? *``.

Result shapes follow Jayway: a definite path (fields and indexes only) returns the value it
selects or fails (PathNotFound); an indefinite one returns the list of what it selects, in
document order, possibly empty.

Hand-written rather than a library: jsonpath-ng and python-jsonpath implement their own dialects
(RFC 9535 or Goessner's) whose filter semantics, result shapes (always a list) and escaping
differ from Jayway's in exactly the places Step Functions users notice, and owning the parser
lets the loader *refuse* what it does not implement (``=~``, ``in``, functions, multi-name
brackets) with a clear message instead of answering differently from AWS.

A path starting ``$$`` addresses the context object; one starting ``$`` the state's data.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from lake.asl.history import to_json
from lake.asl.jsonpath_filter import Filter

_FIELD = re.compile(r"\.([^.\[\]\s'\"*?@()$,]+)")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_QUOTED = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")
_WILDCARD = re.compile(r"\.\*|\[\s*\*\s*\]")
_SLICE = re.compile(r"\[\s*(-?\d+)?\s*:\s*(-?\d+)?\s*\]")
_INDEXES = re.compile(r"\[\s*(-?\d+(?:\s*,\s*-?\d+)+)\s*\]")
_DEEP = re.compile(r"\.\.(?=[A-Za-z0-9_*\[])")


@dataclass(frozen=True)
class Wildcard:
    """``.*`` or ``[*]``: every member value or element."""


@dataclass(frozen=True)
class Slice:
    """``[start:stop]`` of an array (Jayway has no step)."""

    start: int | None
    stop: int | None


@dataclass(frozen=True)
class Indexes:
    """``[0,2]``: several elements."""

    indexes: tuple[int, ...]


@dataclass(frozen=True)
class FilterStep:
    """``[?(...)]``: the elements (or the object) that pass the filter."""

    filter: Filter


@dataclass(frozen=True)
class DeepScan:
    """``..step``: ``step`` applied at every level below."""

    step: Any


Step = str | int | Wildcard | Slice | Indexes | FilterStep | DeepScan


class PathNotFound(LookupError):
    """A path selected nothing in the data (AWS reports it as States.Runtime)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"Invalid path '{path.text}' : No results for path: {path.canonical}")
        self.path = path


class PathWriteFailure(LookupError):
    """ResultPath could not be applied to the state's input (States.ResultPathMatchFailure)."""


@dataclass(frozen=True)
class Path:
    """A parsed path: its text, whether it reads the context object, and its steps."""

    text: str
    context: bool
    steps: tuple[Any, ...]

    @property
    def definite(self) -> bool:
        """Whether the path selects at most one node (fields and indexes only)."""
        return all(isinstance(step, str | int) for step in self.steps)

    @property
    def canonical(self) -> str:
        """The bracket form Jayway prints in its errors, e.g. ``$['a'][0]``."""
        return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in self.steps)

    def read(self, data: Any) -> Any:
        """What this path selects in ``data``: the value for a definite path (PathNotFound if
        there is none), the list of matches for an indefinite one."""
        if not self.definite:
            return _select(list(self.steps), [data], data)
        node = data
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    raise PathNotFound(self)
                node = node[step]
            else:
                if not isinstance(node, dict) or step not in node:
                    raise PathNotFound(self)
                node = node[step]
        return node

    def exists(self, data: Any) -> bool:
        """Whether the path selects something in ``data`` (Choice ``IsPresent``)."""
        try:
            self.read(data)
        except PathNotFound:
            return False
        return True

    def write(self, data: Any, value: Any) -> Any:
        """A copy of ``data`` with ``value`` placed at this path (ResultPath semantics).

        Missing objects along the way are created, as AWS does for ``"ResultPath": "$.a.b"``;
        a step into something that is not an object (or an index out of range) raises
        PathWriteFailure.
        """
        if not self.steps:
            return value
        root = copy.deepcopy(data)
        node = root
        for position, step in enumerate(self.steps):
            last = position == len(self.steps) - 1
            if isinstance(step, int):
                if not isinstance(node, list) or not 0 <= step < len(node):
                    raise PathWriteFailure(self._write_failure(step, node))
                if last:
                    node[step] = value
                else:
                    node = node[step]
                continue
            if not isinstance(node, dict):
                raise PathWriteFailure(self._write_failure(step, node))
            if last:
                node[step] = value
            else:
                node = node.setdefault(step, {})
        return root

    def _write_failure(self, step: str | int, node: Any) -> str:
        shown = to_json(node)
        return (
            f"Unable to apply ResultPath '{self.text}': step '{step}' cannot be applied to {shown}"
        )


def parse_path(text: str) -> Path:
    """Parse ``$...`` or ``$$...``; raise ValueError naming what is not supported."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"'{text}' is not a JSONPath (it must start with '$')")
    context = text.startswith("$$")
    position = 2 if context else 1
    steps: list[Any] = []
    while position < len(text):
        deep = _DEEP.match(text, position)
        if deep:
            position = deep.end()
            if text[position] not in "[*":
                position -= 1  # "..name" reads like ".name" from here
        step, position = _step(text, position)
        steps.append(DeepScan(step) if deep else step)
    return Path(text=text, context=context, steps=tuple(steps))


def _step(text: str, position: int) -> tuple[Any, int]:
    if text.startswith("[?(", position):
        end = _filter_end(text, position + 3)
        try:
            return FilterStep(Filter(text[position + 3 : end])), end + 2
        except ValueError as error:
            raise ValueError(f"JSONPath '{text}': {error}") from error
    if text.startswith("*", position):  # after "..": "..*"
        return Wildcard(), position + 1
    for pattern in (_FIELD, _INDEX, _QUOTED, _WILDCARD, _SLICE, _INDEXES):
        match = pattern.match(text, position)
        if match:
            break
    else:
        raise ValueError(
            f"JSONPath '{text}' uses syntax the local runtime does not support at "
            f"'{text[position:]}' (supported: $, .field, ['field'], [n], .*, [*], [a:b], [a,b], "
            "[?(...)], ..)"
        )
    if pattern is _INDEX:
        return int(match.group(1)), match.end()
    if pattern is _QUOTED:
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        # Kept as written: Jayway (and so AWS) keeps a backslash inside a bracketed name.
        return quoted, match.end()
    if pattern is _WILDCARD:
        return Wildcard(), match.end()
    if pattern is _SLICE:
        bounds = [None if g is None else int(g) for g in match.groups()]
        return Slice(bounds[0], bounds[1]), match.end()
    if pattern is _INDEXES:
        return Indexes(tuple(int(i) for i in match.group(1).split(","))), match.end()
    return match.group(1), match.end()


def _filter_end(text: str, start: int) -> int:
    depth, quote, position = 1, "", start
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and text.startswith(")]", position):
                return position
        position += 1
    raise ValueError(f"JSONPath '{text}': unterminated filter")


def _children(node: Any) -> list:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _apply(step: Any, node: Any, root: Any) -> list:
    """The nodes one indefinite-path step selects from ``node`` (Jayway skips what is missing)."""
    if isinstance(step, str):
        return [node[step]] if isinstance(node, dict) and step in node else []
    if isinstance(step, int):
        ok = isinstance(node, list) and -len(node) <= step < len(node)
        return [node[step]] if ok else []
    if isinstance(step, Wildcard):
        return _children(node)
    if isinstance(step, Slice):
        return node[step.start : step.stop] if isinstance(node, list) else []
    if isinstance(step, Indexes):
        if not isinstance(node, list):
            return []
        return [node[i] for i in step.indexes if -len(node) <= i < len(node)]
    if isinstance(step, FilterStep):
        candidates = node if isinstance(node, list) else [node] if isinstance(node, dict) else []
        return [item for item in candidates if step.filter.matches(item, root)]
    # DeepScan: the step at this node and, recursively, at every node below it (pre-order).
    found = _apply(step.step, node, root)
    for child in _children(node):
        if isinstance(child, dict | list):
            found += _apply(step, child, root)
    return found


def _select(steps: list, nodes: list, root: Any) -> list:
    for step in steps:
        nodes = [found for node in nodes for found in _apply(step, node, root)]
    return nodes


def parse_reference_path(text: str, allow_context: bool = False) -> Path:
    """Parse a reference path (Step Functions guide, "Reference paths"): a definite path,
    without negative indexes; a data path (not ``$$``) unless ``allow_context``."""
    path = parse_path(text)
    if not path.definite:
        raise ValueError(
            f"'{text}' is not a reference path: it may use only dot and bracket notation "
            "(no @ .. , : ? *)"
        )
    if path.context and not allow_context:
        raise ValueError(f"'{text}' addresses the context object; a ResultPath cannot")
    if any(isinstance(step, int) and step < 0 for step in path.steps):
        raise ValueError(f"'{text}' uses a negative index; a ResultPath cannot")
    return path
