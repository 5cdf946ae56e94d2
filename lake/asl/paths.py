"""The JSONPath subset that ASL definitions use: ``$``, ``.field``, ``['field']`` and ``[n]``.

Hand-written rather than a JSONPath library because ASL needs exactly this much, and because
owning the parser lets the loader *refuse* anything outside it (wildcards, filters, deep scan)
with a clear message instead of evaluating a dialect whose results differ from Step Functions'
(Jayway) in edge cases. The same steps serve reads (InputPath, Parameters, Choice Variable, ...)
and writes (ResultPath, which AWS restricts to such "reference paths" anyway).

A path starting ``$$`` addresses the context object; one starting ``$`` the state's data.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

_FIELD = re.compile(r"\.([^.\[\]\s'\"*?@()$,]+)")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")


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
    steps: tuple[str | int, ...]

    @property
    def canonical(self) -> str:
        """The bracket form Jayway prints in its errors, e.g. ``$['a'][0]``."""
        return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in self.steps)

    def read(self, data: Any) -> Any:
        """The value this path selects in ``data``; raises PathNotFound if there is none."""
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
        shown = json.dumps(node, separators=(",", ":"), ensure_ascii=False)
        return (
            f"Unable to apply ResultPath '{self.text}': step '{step}' cannot be applied to {shown}"
        )


def parse_path(text: str) -> Path:
    """Parse ``$...`` or ``$$...``; raise ValueError naming what is not supported."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"'{text}' is not a JSONPath (it must start with '$')")
    context = text.startswith("$$")
    position = 2 if context else 1
    steps: list[str | int] = []
    while position < len(text):
        for pattern in (_FIELD, _INDEX, _QUOTED):
            match = pattern.match(text, position)
            if match:
                break
        else:
            raise ValueError(
                f"JSONPath '{text}' uses syntax the local runtime does not support at "
                f"'{text[position:]}' (supported: $, .field, ['field'], [n])"
            )
        if pattern is _INDEX:
            steps.append(int(match.group(1)))
        elif pattern is _QUOTED:
            quoted = match.group(1) if match.group(1) is not None else match.group(2)
            # Kept as written: Jayway (and so AWS) keeps a backslash inside a bracketed name.
            steps.append(quoted)
        else:
            steps.append(match.group(1))
        position = match.end()
    return Path(text=text, context=context, steps=tuple(steps))


def parse_reference_path(text: str) -> Path:
    """Parse a ResultPath: a data path (not ``$$``) without negative indexes."""
    path = parse_path(text)
    if path.context:
        raise ValueError(f"'{text}' addresses the context object; a ResultPath cannot")
    if any(isinstance(step, int) and step < 0 for step in path.steps):
        raise ValueError(f"'{text}' uses a negative index; a ResultPath cannot")
    return path
