"""Filter expressions of JSONPath (``[?(@.price < 10 && @.tags)]``), as Jayway evaluates them.

Step Functions evaluates JSONPath with Jayway JsonPath (Step Functions guide, "Using JSONPath
paths"). The subset here: ``@`` and ``$`` paths (fields, brackets and indexes), number, string
(single or double quotes), true/false/null literals, the comparisons ``== != < <= > >=``, ``&&``,
``||``, ``!`` and parentheses; a bare path tests that the member exists. Like Jayway, comparing
values of different types is false, and a path that selects nothing makes its comparison false.
Anything else (``=~``, ``in``, functions, ...) is refused when the definition loads.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<op>==|!=|<=|>=|<|>|&&|\|\||!|\(|\))
    |(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<word>true|false|null)
    |(?P<path>[@$](?:\.[A-Za-z0-9_-]+|\[\s*(?:-?\d+|'[^']*'|"[^"]*")\s*\])*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MISSING = object()


@dataclass(frozen=True)
class _Ref:
    root: bool  # $ (the document) rather than @ (the current item)
    steps: tuple[str | int, ...]


def _steps(text: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    for match in re.finditer(r"\.([A-Za-z0-9_-]+)|\[\s*(-?\d+|'[^']*'|\"[^\"]*\")\s*\]", text):
        if match.group(1) is not None:
            steps.append(match.group(1))
        elif match.group(2).lstrip("-").isdigit():
            steps.append(int(match.group(2)))
        else:
            steps.append(match.group(2)[1:-1])
    return tuple(steps)


class Filter:
    """A parsed filter; ``matches(item, root)`` tells whether ``item`` passes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = self._tokenize(text)
        self._position = 0
        self._tree = self._or()
        if self._position != len(self._tokens):
            raise ValueError(f"unexpected '{self._tokens[self._position][1]}' in filter '{text}'")

    def _tokenize(self, text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                raise ValueError(
                    f"filter '{text}' uses syntax the local runtime does not support at "
                    f"'{text[position:].strip()}'"
                )
            kind = match.lastgroup
            value = match.group(kind)
            if kind == "num":
                tokens.append(
                    ("lit", float(value) if any(c in value for c in ".eE") else int(value))
                )
            elif kind == "str":
                tokens.append(("lit", re.sub(r"\\(.)", r"\1", value[1:-1])))
            elif kind == "word":
                tokens.append(("lit", {"true": True, "false": False, "null": None}[value]))
            elif kind == "path":
                tokens.append(("ref", _Ref(value.startswith("$"), _steps(value[1:]))))
            else:
                tokens.append(("op", value))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, Any] | None:
        return self._tokens[self._position] if self._position < len(self._tokens) else None

    def _take(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise ValueError(f"filter '{self.text}' ends too early")
        self._position += 1
        return token

    def _or(self) -> Any:
        node = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self) -> Any:
        node = self._unary()
        while self._peek() == ("op", "&&"):
            self._take()
            node = ("and", node, self._unary())
        return node

    def _unary(self) -> Any:
        if self._peek() == ("op", "!"):
            self._take()
            return ("not", self._unary())
        if self._peek() == ("op", "("):
            self._take()
            node = self._or()
            if self._take() != ("op", ")"):
                raise ValueError(f"missing ')' in filter '{self.text}'")
            return node
        left = self._take()
        token = self._peek()
        if token is not None and token[0] == "op" and token[1] in _COMPARE:
            self._take()
            return ("cmp", token[1], left, self._take())
        if left[0] != "ref":
            raise ValueError(f"filter '{self.text}': a literal alone is not a condition")
        return ("exists", left)

    def matches(self, item: Any, root: Any) -> bool:
        """Whether ``item`` (``@``) passes, with ``root`` as ``$``."""
        return self._eval(self._tree, item, root)

    def _eval(self, node: Any, item: Any, root: Any) -> bool:
        kind = node[0]
        if kind == "or":
            return self._eval(node[1], item, root) or self._eval(node[2], item, root)
        if kind == "and":
            return self._eval(node[1], item, root) and self._eval(node[2], item, root)
        if kind == "not":
            return not self._eval(node[1], item, root)
        if kind == "exists":
            return _value(node[1], item, root) is not _MISSING
        left, right = _value(node[2], item, root), _value(node[3], item, root)
        return _compare(node[1], left, right)


def _value(token: tuple[str, Any], item: Any, root: Any) -> Any:
    if token[0] == "lit":
        return token[1]
    ref: _Ref = token[1]
    node = root if ref.root else item
    for step in ref.steps:
        if (
            isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node)
        ) or (isinstance(step, str) and isinstance(node, dict) and step in node):
            node = node[step]
        else:
            return _MISSING
    return node


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _compare(name: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        return False
    if _kind(left) != _kind(right):
        return name == "!="
    if name in ("==", "!="):
        return _COMPARE[name](left, right)
    if _kind(left) not in ("number", "str"):
        return False
    return _COMPARE[name](left, right)
