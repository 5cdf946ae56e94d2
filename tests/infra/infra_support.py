"""ONE synthesis of the CDK app per test session (jsii start-up and synth take seconds), shared
by every infra test module through `synthesized()`: `app.py`'s own `main()`, as `cdk synth` runs
it. Tests of one construct build a small stack of their own with `fresh_stack()` instead."""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

import settings

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Synth:
    stack: Any  # stacks.lake_stack.MovementLakeStack
    template: Template
    outdir: Path

    @property
    def json(self) -> dict[str, Any]:
        return self.template.to_json()

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def ref(self, construct: Any) -> dict[str, str]:
        return {"Ref": self.logical_id(construct)}

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(kind)

    def only(self, kind: str) -> dict[str, Any]:
        """The properties of the single resource of `kind`."""
        found = self.resources(kind)
        assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
        return next(iter(found.values()))["Properties"]

    def policy_statements(self, role: Any) -> list[dict[str, Any]]:
        """Every statement of the inline policies attached to `role`."""
        role_ref = self.ref(role)
        statements = []
        for policy in self.resources("AWS::IAM::Policy").values():
            if role_ref in policy["Properties"]["Roles"]:
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements

    def asset_folder(self, path_fragment: str) -> Path:
        """The staged folder of a directory asset whose S3 URL/key appears at `path_fragment`."""
        key = re.search(r"([0-9a-f]{64})\.zip", json.dumps(path_fragment))
        assert key, f"no zip asset in {path_fragment!r}"
        return self.outdir / f"asset.{key.group(1)}"


def app_module() -> Any:
    """`app.py` (a script at the project root, not an installed module), loaded by path."""
    path = settings.PROJECT_ROOT / "app.py"
    spec = importlib.util.spec_from_file_location("movement_lake_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def synthesized() -> Synth:
    """The app as `make synth` builds it (cdk.json's context), synthesized once by `main()`:
    cdk-nag's aspects run there, and the stack keeps their annotations."""
    outdir = Path(tempfile.mkdtemp(prefix="movement-lake-cdk-out-"))
    stack = app_module().main(outdir=str(outdir))
    return Synth(stack=stack, template=Template.from_stack(stack), outdir=outdir)


def fresh_stack() -> Stack:
    """An empty stack in an app of its own (cdk.json's context and feature flags, no cdk-nag),
    for a test of one construct."""
    return Stack(App(context=settings.cdk_json_context()), "Test")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# Actions that AWS allows only on Resource "*" (no resource-level permissions).
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
XRAY_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
