"""`stacks/` imports only the data contract, `settings`, its own modules, the CDK and the standard
library: never a handler (`functions/`), the Glue job (`glue/`) or the local runtime (`lake/`), so
that `cdk synth` needs none of their dependencies (ARCHITECTURE.md, "Layout")."""

from __future__ import annotations

import ast
import sys

import pytest

from settings import PROJECT_ROOT

ALLOWED = {"contract", "settings", "stacks", "aws_cdk", "constructs", "cdk_nag", "__future__"}
STACK_MODULES = sorted((PROJECT_ROOT / "stacks").glob("*.py"))


def imported_top_level_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", STACK_MODULES, ids=lambda p: p.name)
def test_stacks_import_only_the_contract_settings_the_cdk_and_the_standard_library(path):
    outside = imported_top_level_names(path.read_text()) - ALLOWED - sys.stdlib_module_names
    assert not outside, f"stacks/{path.name} imports {sorted(outside)}"


def test_the_scan_sees_a_forbidden_import():
    assert "functions" in imported_top_level_names("from functions.alert import handler")
    assert "glue" in imported_top_level_names("import glue.publish as publish")
