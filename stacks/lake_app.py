"""The CDK app of movement-lake, built from cdk.json's context (override with `cdk -c key=value`)
and checked by cdk-nag's AwsSolutions pack on every synth. `app.py` synthesizes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from settings import GLUE_SCRIPT, cdk_json_context, load_settings
from stacks.lake_stack import MovementLakeStack


def build_app(
    context: dict[str, Any] | None = None,
    *,
    outdir: str | None = None,
    glue_script: Path = GLUE_SCRIPT,
) -> tuple[App, MovementLakeStack]:
    """The app and its one stack, not yet synthesized. `context` adds to cdk.json's."""
    # cdk.json's context (feature flags included) also when run without the CLI, e.g. by tests;
    # context from the CLI (`-c key=value`) beats what is passed here.
    defaults = cdk_json_context()
    app = App(context={**defaults, **(context or {})}, outdir=outdir)
    keys = set(defaults) | set(context or {})
    settings = load_settings({key: app.node.try_get_context(key) for key in keys})
    stack = MovementLakeStack(
        app,
        settings.name_prefix,  # the stack is named like its resources: one stack per prefix
        settings=settings,
        glue_script=glue_script,
        description="movement-lake: Uber Movement travel times, S3 -> Step Functions -> Glue -> "
        "Athena, with e-mail alerts",
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack
