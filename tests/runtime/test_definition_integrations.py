"""The local runtime executes the very ASL file the stack deploys, and can play every service
it calls; a definition calling anything else is refused when the runtime starts."""

from __future__ import annotations

import json
import re

import pytest

import settings
from lake.asl import UnsupportedDefinition
from lake.home import LakeHome
from lake.runtime.engine import Engine, definition_substitutions, load_workflow, workflow_files
from lake.runtime.errors import MissingIntegration


def test_the_runtime_executes_the_state_machine_file_of_the_project(tmp_path):
    engine = Engine(LakeHome(tmp_path))
    assert engine.definition_file == settings.STATE_MACHINE_FILE


def test_every_resource_of_the_deployed_definitions_has_a_local_integration(tmp_path):
    home = LakeHome(tmp_path)
    with Engine(home) as engine:  # opening checks every resource has a local integration
        for name, path in workflow_files(home).items():
            resources = load_workflow(home, path).resources()
            assert resources  # the file has tasks
            integrations = set(engine.workflows[name].integrations)
            assert resources <= integrations, resources - integrations


def test_every_placeholder_of_the_definitions_gets_a_local_value(tmp_path):
    home = LakeHome(tmp_path)
    texts = [path.read_text() for path in workflow_files(home).values()]
    for name in definition_substitutions(home):
        assert any("${" + name + "}" in text for text in texts)  # no stale substitution
    for path in workflow_files(home).values():
        assert "${" not in json.dumps(load_workflow(home, path).raw)


def test_a_definition_calling_a_service_without_local_integration_is_refused_at_start(tmp_path):
    definition = json.loads(settings.STATE_MACHINE_FILE.read_text())
    definition["States"]["Validate"]["Resource"] = "arn:aws:states:::dynamodb:putItem"
    path = tmp_path / "other.asl.json"
    path.write_text(json.dumps(definition))
    with pytest.raises((MissingIntegration, UnsupportedDefinition)) as refused:
        Engine(LakeHome(tmp_path / "home"), definition_file=path).open()
    assert "dynamodb:putItem" in str(refused.value)


def _keyword_dict_keys(source: str, keyword: str) -> set[str]:
    """The string keys of the dict passed as `keyword=` in a Python source file."""
    import ast

    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.keyword)
            and node.arg == keyword
            and isinstance(node.value, ast.Dict)
        ):
            return {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    raise AssertionError(f"no {keyword}= in the stack")


def test_the_stack_deploys_the_same_files_with_the_same_placeholders(tmp_path):
    import inspect

    from stacks import backfill, workflow
    from stacks import transform_job as job

    home = LakeHome(tmp_path)
    files = workflow_files(home)
    # the stack's state machines read the files the runtime executes
    deployed = inspect.signature(workflow.Workflow.__init__).parameters["definition_file"].default
    assert deployed == settings.STATE_MACHINE_FILE == Engine(home).definition_file
    assert deployed == files[home.settings.state_machine_name]
    backfill_file = inspect.signature(backfill.Backfill.__init__).parameters["definition_file"]
    assert backfill_file.default == files[home.settings.backfill_state_machine_name]
    # and substitute the same placeholders the runtime substitutes
    for module, path in ((workflow, deployed), (backfill, backfill_file.default)):
        stack_keys = _keyword_dict_keys(inspect.getsource(module), "definition_substitutions")
        assert stack_keys == set(re.findall(r"\$\{([^}]*)\}", path.read_text())), module.__name__
        assert stack_keys <= set(definition_substitutions(home))
    # the Glue job's script arguments are the ones the runtime passes by default
    from glue.arguments import JobArguments
    from lake.aws.glue import default_arguments

    # (one function gives both; each is an argument the script knows)
    assert "**settings.job_arguments(" in inspect.getsource(job)
    local = default_arguments(home)
    assert local == home.settings.job_arguments(home.settings.curated_bucket)
    assert {name.removeprefix("--") for name in local} <= set(JobArguments.__dataclass_fields__)
