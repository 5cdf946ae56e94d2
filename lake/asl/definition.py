"""Loading a state machine definition: placeholder substitution, parsing, and validation (the
rules are in ``definition_checks``), into a ``StateMachineDefinition``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath

from lake.asl.definition_checks import validate
from lake.asl.errors import UnsupportedDefinition

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class StateMachineDefinition:
    """A loaded, validated definition. ``raw`` is the parsed JSON after substitution."""

    raw: dict

    @property
    def states(self) -> dict[str, dict]:
        """The states by name."""
        return self.raw["States"]

    @property
    def start_at(self) -> str:
        """The name of the first state."""
        return self.raw["StartAt"]

    @property
    def timeout_seconds(self) -> int | None:
        """The execution's TimeoutSeconds, if the definition sets one."""
        return self.raw.get("TimeoutSeconds")

    def resources(self) -> set[str]:
        """Every Resource ARN the runtime must provide an integration for: Task states' (in
        Parallel branches and Map item processors too) and Distributed Maps' ItemReader and
        ResultWriter (S3 reads and writes go through integrations like any task)."""
        return machine_resources(self.raw)


def machine_resources(machine: dict) -> set[str]:
    """The Resource ARNs used in ``machine`` (a definition, branch or item processor)."""
    found: set[str] = set()
    for state in machine["States"].values():
        if state["Type"] == "Task":
            found.add(state["Resource"])
        for branch in state.get("Branches", []):
            found |= machine_resources(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found |= machine_resources(processor)
        for key in ("ItemReader", "ResultWriter"):
            if "Resource" in state.get(key, {}):
                found.add(state[key]["Resource"])
    return found


def load_definition(path: FilePath, substitutions: Mapping[str, str]) -> StateMachineDefinition:
    """Read a definition file, substitute ``${Name}`` placeholders, parse and validate it.

    Substitution works like CloudFormation's DefinitionSubstitutions (values are inserted as
    JSON string content); a placeholder with no value is an error. Raises UnsupportedDefinition
    for anything invalid or not implemented by the local runtime.
    """
    text = FilePath(path).read_text(encoding="utf-8")
    return parse_definition(substitute(text, substitutions), source=str(path))


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    """Replace each ``${Name}``; raise UnsupportedDefinition naming the ones left without value."""
    missing = sorted({name for name in _PLACEHOLDER.findall(text) if name not in substitutions})
    if missing:
        raise UnsupportedDefinition(
            "no value for definition placeholder(s) " + ", ".join(f"${{{m}}}" for m in missing)
        )
    # JSON-escaped because every placeholder sits inside a JSON string in our definitions.
    return _PLACEHOLDER.sub(lambda m: json.dumps(str(substitutions[m.group(1)]))[1:-1], text)


def parse_definition(text: str, source: str = "definition") -> StateMachineDefinition:
    """Parse and validate definition JSON text (already substituted)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnsupportedDefinition(f"{source} is not valid JSON: {error}") from error
    validate(raw)
    return StateMachineDefinition(raw=raw)
