"""The CDK app of movement-lake (cdk.json: `"app": ".venv/bin/python app.py"`): one stack,
configured from cdk.json's context, checked by cdk-nag on every synth. See docs/aws.md."""

from __future__ import annotations

from stacks.lake_app import build_app


def main() -> None:
    """Synthesize the app into the CLI's output folder (cdk.out)."""
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
