"""The executions pages: the list (status and state machine filters, newest first, refreshing
while something runs), one execution, its log, the Redrive / Re-run / Stop requests (each
confirmed first, with the CLI's semantics), and the alerts sent."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from lake.runtime import EngineError, ExecutionNotFound, ExecutionRecord, Lake, NotRedrivable
from lake.ui.web.execution_view import execution_view, log_tail
from lake.ui.web.rendering import STATUSES, any_running, current_lake, error_page

blueprint = Blueprint("executions", __name__)
PAGE_SIZE = 50
REFRESH_S = 2  # pages showing a running execution reload themselves this often
_EXECUTION_ARN = re.compile(r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:([^:\s]+)")

# What each request does, in the CLI's words (`lake redrive`, `lake rerun`; stop as AWS's).
ACTIONS = {
    "redrive": (
        "Redrive",
        "Continue this execution at the state that did not finish. The states before it keep "
        "what they did; the execution keeps its name and history, and counts one more redrive. "
        "Deal with the cause first, or it fails the same way. (`lake redrive NAME`)",
    ),
    "rerun": (
        "Re-run",
        "Start a new execution of the same state machine with the same input (for an upload: "
        "the same S3 event). Every run is safe to repeat. (`lake rerun NAME`)",
    ),
    "stop": (
        "Stop",
        "Stop this execution: it ends ABORTED at its next state boundary (a Glue run that has "
        "begun finishes first). It can be redriven afterwards. (StopExecution)",
    ),
}


def _execution_or_404(lake: Lake, name: str) -> ExecutionRecord:
    """The execution the page is about, or (abort) the 404 page that says it is not there."""
    try:
        return lake.execution(name)
    except ExecutionNotFound as e:
        abort(error_page(404, str(e)))


@blueprint.get("/executions")
def list_executions() -> Response | str:
    lake = current_lake()
    status = request.args.get("status") or None
    machine = request.args.get("machine") or None
    if status is not None and status not in STATUSES:
        return error_page(
            400, f"there is no status {status!r}; the statuses are {', '.join(STATUSES)}"
        )
    machines = [m.name for m in lake.state_machines()]
    if machine is not None and machine not in machines:
        return error_page(
            400, f"there is no state machine {machine!r}; there are {', '.join(machines)}"
        )
    try:
        records, cursor = lake.execution_page(
            state_machine=machine, status=status, after=request.args.get("after"), limit=PAGE_SIZE
        )
    except ValueError as e:
        return error_page(400, f"{e}; start again from the first page")
    return render_template(
        "executions.html",
        records=records,
        status=status,
        machine=machine,
        machines=machines,
        next_cursor=cursor,
        refresh=REFRESH_S if any_running(records) else None,
    )


@blueprint.get("/executions/<name>")
def show_execution(name: str) -> Response | str:
    lake = current_lake()
    record = _execution_or_404(lake, name)
    view = execution_view(lake, record)
    return render_template(
        "execution.html",
        view=view,
        actions=ACTIONS,
        home=lake.home.root,
        refresh=REFRESH_S if view.running else None,
    )


@blueprint.get("/executions/<name>/log")
def execution_log(name: str) -> Response | str:
    lake = current_lake()
    record = _execution_or_404(lake, name)
    text, cut = log_tail(lake, record)
    return render_template(
        "log.html",
        record=record,
        text=text,
        cut=cut,
        path=lake.home.execution_log(record.name),
        refresh=REFRESH_S if record.status == "RUNNING" else None,
    )


@blueprint.route("/executions/<name>/<action>", methods=["GET", "POST"])
def act(name: str, action: str) -> Response | str:
    """GET: what the request would do, and a button to confirm it. POST: do it."""
    lake = current_lake()
    if action not in ACTIONS:
        return error_page(404, f"there is no request {action!r}; there are {', '.join(ACTIONS)}")
    record = _execution_or_404(lake, name)
    redrive = lake.redrive_status(record)
    refusal = _refusal(action, record.status, redrive.reason if not redrive.redrivable else None)
    if request.method == "GET" or refusal:
        page = render_template(
            "confirm.html",
            record=record,
            action=action,
            label=ACTIONS[action][0],
            meaning=ACTIONS[action][1],
            refusal=refusal,
            redrive=redrive,
        )
        return Response(page, status=409 if refusal and request.method == "POST" else 200)
    try:
        if action == "redrive":
            lake.redrive(record.name)
            flash(f"Redriven: {record.name} continues at the state that did not finish.")
            target = record.name
        elif action == "rerun":
            target = lake.rerun(record.name)
            flash(f"Re-run of {record.name} started: {target}.")
        else:
            lake.stop(record.name)
            flash(f"Stop requested: {record.name} ends at its next state boundary.")
            target = record.name
    except (EngineError, NotRedrivable) as e:
        return error_page(409, f"cannot {ACTIONS[action][0].lower()} {record.name}: {e}")
    return redirect(url_for("executions.show_execution", name=target), code=303)


def _refusal(action: str, status: str, not_redrivable: str | None) -> str | None:
    """Why the request cannot be made now, before asking the engine (None: it can)."""
    if action == "redrive" and not_redrivable:
        return f"It cannot be redriven: {not_redrivable}"
    if action == "stop" and status != "RUNNING":
        return f"It is not running (it ended {status})."
    return None


@blueprint.get("/alerts")
def alerts() -> str:
    """The e-mails sent about executions that failed, timed out or were aborted."""
    sent = current_lake().alerts()
    for alert in sent:
        found = _EXECUTION_ARN.search(alert["body"])
        alert["execution"] = found.group(1) if found else None
    return render_template("alerts.html", alerts=sent)
