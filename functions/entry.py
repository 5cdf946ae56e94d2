"""Lambda entry points whose handler is built on the first invocation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def built_on_first_call(build: Callable[[], Handler]) -> Handler:
    """An entry point that builds its handler, with boto3's clients, when Lambda first calls it
    and keeps it for the container's life. Not at import: a boto3 client needs the Lambda's
    region, which an import by the local runtime or a test does not have."""
    built: Handler | None = None

    def entry(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal built
        if built is None:
            built = build()
        return built(event, context)

    return entry
