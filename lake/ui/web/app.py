"""The Flask application of the console and the Step Functions API: its configuration, the
checks every request passes, the pages, the API, and the error pages (a bad request gets a page
or a JSON error that says what to do; a fault of the server is logged, never shown as a trace)."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, redirect, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from lake.runtime import Lake
from lake.ui.web import pages_executions, pages_lake, pages_upload
from lake.ui.web.rendering import colours_css, error_page, install_filters
from lake.ui.web.security import Guard, Refusal
from lake.ui.web.sfn_errors import ApiError
from lake.ui.web.sfn_operations import PageTokens, StepFunctionsOperations
from lake.ui.web.sfn_protocol import add_api, api_error_response, is_api_request

MAX_UPLOAD_BYTES = 2 * 1024**3  # an export of a large city over a year is a few hundred MB
log = logging.getLogger(__name__)


def create_app(lake: Lake, *, token: str | None, loopback_only: bool) -> Flask:
    """The application serving `lake`. With `token`, every request must present it."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # a new one per start: old forms simply expire
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the server runs (a console left open)
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_NAME="lake_console_session",
    )
    app.extensions["lake"] = lake
    guard = Guard(token, loopback_only)
    app.extensions["lake_guard"] = guard
    csrf = CSRFProtect(app)
    operations = StepFunctionsOperations(lake, PageTokens(app.config["SECRET_KEY"]))
    csrf.exempt(add_api(app, operations))
    guard.install(app, refused=lambda refusal: error_page(refusal.status, refusal.message))
    install_filters(app)
    for module in (pages_executions, pages_upload, pages_lake):
        app.register_blueprint(module.blueprint)

    @app.get("/")
    def home() -> Response:
        return redirect(url_for("executions.list_executions"))

    @app.get("/colours.css")
    def colours() -> Response:
        return Response(colours_css(), content_type="text/css; charset=utf-8")

    _install_error_pages(app)
    return app


def name_cookies(app: Flask, port: int) -> None:
    """Cookies named after the port: browsers share cookies between the ports of a host, and
    two consoles (two lake homes) must not overwrite each other's."""
    app.config["SESSION_COOKIE_NAME"] = f"lake_console_session_{port}"
    guard: Guard = app.extensions["lake_guard"]
    guard.cookie = f"{guard.cookie}_{port}"


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> Response:
        return error_page(
            400,
            "This form has expired or did not come from this console (its CSRF token is "
            f"missing or wrong: {error.description}). Reload the page and try again.",
            title="Form expired",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if is_api_request():
            code = "SerializationException" if error.code == 413 else "ValidationException"
            return api_error_response(ApiError(code, error.description or "", error.code or 400))
        messages = {
            404: "There is no such page here. The console's pages are Executions, Upload, "
            "Alerts, Lake and Query (above).",
            405: "This address does not take that kind of request.",
            413: f"That file is larger than {MAX_UPLOAD_BYTES // 1024**3} GiB, the most this "
            "console takes; copy it into the raw bucket folder instead (see the README).",
        }
        status = error.code or 500
        return error_page(status, messages.get(status, error.description or error.name))

    @app.errorhandler(Refusal)
    def refused(refusal: Refusal) -> Response:
        return error_page(refusal.status, refusal.message)

    @app.errorhandler(Exception)
    def fault(error: Exception) -> Response:
        log.exception("the console failed")
        if is_api_request():
            return api_error_response(
                ApiError("InternalFailure", "the local runtime failed on this request", 500)
            )
        return error_page(
            500,
            f"The console failed on this request ({type(error).__name__}: {error}). The "
            "`lake serve` log has the details.",
        )
