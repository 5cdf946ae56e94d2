"""ONE synthesis of the CDK app per test session (jsii start-up and synth take seconds), shared
by every infra test module through `synthesized()`."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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


@cache
def synthesized() -> Synth:
    """The app as `make synth` builds it (cdk.json's context), synthesized once."""
    from stacks.lake_app import build_app

    outdir = Path(tempfile.mkdtemp(prefix="movement-lake-cdk-out-"))
    _, stack = build_app(outdir=str(outdir), glue_script=settings.GLUE_SCRIPT)
    template = Template.from_stack(stack)  # synthesizes the app: cdk-nag's aspects run here
    return Synth(stack=stack, template=template, outdir=outdir)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
