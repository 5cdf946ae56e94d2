"""The CDK app of movement-lake (cdk.json: `"app": ".venv/bin/python app.py"`): one stack,
configured from cdk.json's context, checked by cdk-nag on every synth. See the README's
"Run it on AWS"."""

from __future__ import annotations

from stacks.lake_app import build_app
from stacks.lake_stack import MovementLakeStack


def main(outdir: str | None = None) -> MovementLakeStack:
    """Synthesize the app into `outdir` (default: the CLI's cdk.out) and return its one stack,
    whose annotations carry cdk-nag's findings."""
    app, stack = build_app(outdir=outdir)
    app.synth()
    return stack


if __name__ == "__main__":
    main()
