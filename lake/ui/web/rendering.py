"""What every console page shares: the lake it shows, the error page, and the template filters
(times, durations, JSON, status colours). Templates are Jinja2 with autoescaping: every value a
page shows is escaped unless it is Markup built here from escaped parts (the graph's SVG)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask, Response, current_app, render_template

from lake.runtime import ExecutionRecord, Lake
from lake.ui.graph import COLOURS
from lake.ui.timeline import CAUGHT, FAILED, NOT_REACHED, RUNNING, SUCCEEDED
from lake.ui.views import duration, local_time
from lake.ui.web.execution_view import short_reason

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# An execution's status in the graph's palette (so a badge and the graph agree).
STATUS_OUTCOME = {
    "SUCCEEDED": SUCCEEDED,
    "FAILED": FAILED,
    "TIMED_OUT": FAILED,
    "ABORTED": CAUGHT,
    "RUNNING": RUNNING,
}
OUTCOME_CLASS = {
    SUCCEEDED: "succeeded",
    FAILED: "failed",
    RUNNING: "running",
    CAUGHT: "caught",
    NOT_REACHED: "not-reached",
}


def current_lake() -> Lake:
    """The lake this console shows."""
    return current_app.extensions["lake"]


def error_page(status: int, message: str, title: str | None = None) -> Response:
    """A page that says what went wrong and what to do (never a stack trace)."""
    titles = {400: "Bad request", 401: "Token needed", 403: "Not allowed", 404: "Not found"}
    html = render_template(
        "error.html",
        status=status,
        title=title or titles.get(status, "Something went wrong"),
        message=message,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def colours_css() -> str:
    """The status and outcome colours as CSS classes, from the graph's palette."""
    rules = []
    for outcome, css_class in OUTCOME_CLASS.items():
        stroke, fill = COLOURS[outcome]
        rules.append(
            f".badge.{css_class}, .outcome-{css_class} {{ color: {stroke}; "
            f"background: {fill}; border-color: {stroke}; }}\n"
            f".bar.{css_class} {{ fill: {stroke}; }}"
        )
    return "\n".join(rules) + "\n"


def install_filters(app: Flask) -> None:
    """The filters the templates use."""
    app.jinja_env.filters.update(
        when=_when,
        clock=lambda value: "" if value is None else value.astimezone().strftime("%H:%M:%S"),
        took=duration,
        pretty_json=pretty_json,
        status_class=lambda status: OUTCOME_CLASS[STATUS_OUTCOME.get(status, NOT_REACHED)],
        outcome_class=lambda outcome: OUTCOME_CLASS.get(outcome, "not-reached"),
        thousands=lambda n: f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n)),
        seconds=lambda s: "" if s is None else f"{s:.1f} s",
        short_reason=short_reason,
    )
    app.jinja_env.globals.update(statuses=STATUSES)


def _when(value: dt.datetime | float | None) -> str:
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    return local_time(value)


def pretty_json(value: Any) -> str:
    """JSON text (or a value) indented for reading; text that is not JSON as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def any_running(records: list[ExecutionRecord]) -> bool:
    return any(record.status == "RUNNING" for record in records)
