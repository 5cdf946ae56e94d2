"""The rooms of the code and what each may import (lake/README.md, README.md "Architecture").

The import graph is built by grimp (the library behind import-linter: it resolves relative
imports and `from package import module` to the module imported, and can leave out imports
made only under `if TYPE_CHECKING:`, which never run). The rules themselves are a table here,
because they are this project's: which room may import which, and which outside packages the
rooms that ship alone (the contract, the interpreter, the stack) may use."""

from __future__ import annotations

import graphlib
import itertools
import sys
from dataclasses import dataclass

import grimp
import pytest

PACKAGES = ("contract", "functions", "glue", "lake", "stacks")
# `settings.py` is a top-level module, not a package, so grimp sees it as an outside import.
PROJECT = {*PACKAGES, "settings"}
STDLIB = set(sys.stdlib_module_names)


@dataclass(frozen=True)
class Room:
    """A folder with a purpose: the project modules it may import (a name stands for the module
    and everything under it; `exactly` for the module alone) and, where it ships alone, the only
    outside packages it may use (None: any)."""

    may_import: tuple[str, ...]
    exactly: tuple[str, ...] = ()
    outside: frozenset[str] | None = None


# The most specific room of a module applies (`functions.story` before `functions`).
ROOMS: dict[str, Room] = {
    "contract": Room(("contract",), outside=frozenset(STDLIB)),
    "functions": Room(("functions", "contract")),
    # Read by the alert Lambda and the local runtime alike: neither's dependencies.
    "functions.story": Room(("functions.story", "contract"), outside=frozenset(STDLIB)),
    "glue": Room(("glue", "contract")),
    "lake.asl": Room(("lake.asl",), outside=frozenset(STDLIB)),
    "lake.home": Room(("lake.home", "contract", "settings")),
    "lake.aws": Room(("lake.aws", "lake.asl", "lake.home", "contract", "functions", "glue")),
    "lake.runtime": Room(
        ("lake.runtime", "lake.asl", "lake.aws", "lake.home", *("contract", "functions", "glue")),
        exactly=("settings",),
    ),
    # The faces read executions through `lake.runtime`'s exports only, never its modules.
    "lake.ui": Room(
        ("lake.ui", "lake.home", "contract", "functions.story"), exactly=("lake.runtime",)
    ),
    "lake": Room(("lake",)),
    "stacks": Room(
        ("stacks", "contract", "settings"),
        outside=frozenset(STDLIB | {"aws_cdk", "constructs", "cdk_nag"}),
    ),
}


def build_graph() -> grimp.ImportGraph:
    """The import graph of the project's packages, outside packages squashed to their names."""
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build_graph()


def within(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


def room_of(module: str) -> Room:
    return ROOMS[max((name for name in ROOMS if within(module, name)), key=len)]


def top_name(module: str) -> str:
    return module.partition(".")[0]


def where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
    return f"{importer} -> {imported} ({lines})"


def broken_rules(graph: grimp.ImportGraph) -> list[str]:
    """Every import that its room does not allow, with where it is written."""
    broken = []
    for importer in sorted(graph.modules):
        if top_name(importer) not in PACKAGES:
            continue
        room = room_of(importer)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if top_name(imported) in PROJECT:
                allowed = imported in room.exactly or any(
                    within(imported, name) for name in room.may_import
                )
            else:
                allowed = room.outside is None or top_name(imported) in room.outside
            if not allowed:
                broken.append(where(graph, importer, imported))
    return broken


def import_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One circle of imports among the project's modules (each imports the next), or None."""
    project_imports = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if top_name(imported) in PACKAGES
        }
        for module in graph.modules
        if top_name(module) in PACKAGES
    }
    try:
        graphlib.TopologicalSorter(project_imports).prepare()
    except graphlib.CycleError as error:
        return error.args[1][::-1]  # graphlib lists each module before the ones importing it
    return None


def test_every_room_imports_only_what_it_may(graph):
    assert broken_rules(graph) == []


def test_no_module_imports_itself_back_through_others(graph):
    cycle = import_cycle(graph)
    assert cycle is None, "\n".join(where(graph, *pair) for pair in itertools.pairwise(cycle))


def test_the_rooms_cover_every_package():
    assert {top_name(name) for name in ROOMS} == set(PACKAGES)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("lake.ui.cli", "lake.runtime.engine"),  # a face reaching into the runtime
        ("lake.ui.views", "lake.asl"),
        ("stacks.alerts", "functions.alert"),  # the stack importing a handler
        ("stacks.alerts", "boto3"),
        ("glue.job", "lake.home"),
        ("contract.layout", "glue.partition"),
        ("contract.layout", "pyspark"),
        ("functions.story", "aws_lambda_powertools"),
        ("lake.asl.executor", "lake.aws"),
        ("lake.aws.s3", "lake.runtime"),
    ],
)
def test_a_forbidden_import_is_reported(importer, imported):
    graph = build_graph()
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="x")

    assert broken_rules(graph) == [f"{importer} -> {imported} (line 1: x)"]


def test_a_circle_is_reported():
    graph = build_graph()
    graph.add_import(importer="contract.columns", imported="contract.table")

    assert set(import_cycle(graph)) == {"contract.columns", "contract.table"}
