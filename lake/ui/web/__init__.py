"""The local console: the Step Functions console's job in a browser, and the Step Functions API
itself (AWS's JSON 1.0 protocol), served together by one process for one lake home.

`start_web(lake, host=..., port=..., token=...)` serves both in background threads and returns a
`WebServer` (`url`, `close()`); `lake serve` calls it. Everything goes through
`lake.runtime.Lake`, the operations the CLI uses too.

Why Flask: a well-kept, small framework whose pieces each do one job we need: Jinja2 templates
that escape every value by default (file names, keys, SQL and causes are user text), Werkzeug's
threaded WSGI server that starts and stops cleanly inside another process, and Flask-WTF's CSRF
protection for the console's forms; three dependencies (Flask, Flask-WTF and what they bring),
no build step, no JavaScript framework. The pages are server-rendered and use no script at all:
pages showing a running execution reload themselves (a meta refresh), and Redrive, Re-run and
Stop ask for confirmation on a page of their own.

Modules: `server` (start_web), `app` (the Flask app, error pages), `security` (token, host and
origin checks, headers), `sfn_protocol` / `sfn_operations` / `sfn_model` / `sfn_errors` (the
API), `pages_executions` / `pages_upload` / `pages_lake` (the console), `execution_view` and
`charts` (what the pages draw), `rendering` (what the pages share).

May import: `lake.runtime` (its exports), `lake.ui` (graph, timeline, report, views),
`functions.story`, `contract`."""

from lake.ui.web.server import WebServer, start_web

__all__ = ["WebServer", "start_web"]
