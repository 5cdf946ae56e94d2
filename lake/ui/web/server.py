"""`start_web`: serve the console and the Step Functions API of a lake in background threads.

Werkzeug's threaded WSGI server (one thread per request): a console for the few people of one
machine or team needs no more, and it stops cleanly (`WebServer.close`)."""

from __future__ import annotations

import logging
import re
import socket
import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lake.runtime import Lake
from lake.ui.web.app import create_app, name_cookies
from lake.ui.web.security import is_loopback

_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s]*")
log = logging.getLogger(__name__)


class QuietRequestHandler(WSGIRequestHandler):
    """Logs each request at INFO on the `lake.ui.web` logger, the token taken out of it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        line = _TOKEN_IN_URL.sub(r"\1…", self.requestline)
        log.info("%s %s %s", self.address_string(), line, code)

    def log_error(self, format: str, *args: object) -> None:
        log.warning(format, *args)


@dataclass
class WebServer:
    """A running console: `url` is where it answers (the real port when 0 was asked)."""

    url: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self._server.server_port

    def close(self) -> None:
        """Stop answering and wait for the serving thread to end (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


def start_web(
    lake: Lake, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None
) -> WebServer:
    """Serve the console and the Step Functions API of `lake` on `host`:`port` (0: any free
    port) in background threads, and return at once.

    Loopback only, unless told otherwise: any other host needs a `token`, which every request
    must then present (see lake.ui.web.security). Raises ValueError, saying what to do, for a
    non-loopback host without a token or an empty token; OSError when the port is taken."""
    if token is not None and not token.strip():
        raise ValueError("the console's token must not be empty")
    loopback = is_loopback(host)
    if not loopback and token is None:
        raise ValueError(
            f"serving on {host} lets other machines reach the console: give a token "
            "(every request must then present it), or serve on 127.0.0.1"
        )
    app = create_app(lake, token=token, loopback_only=loopback)
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    bound = server.server_port
    name_cookies(app, bound)
    shown = f"[{host}]" if server.address_family == socket.AF_INET6 else host
    thread = threading.Thread(target=server.serve_forever, name=f"lake-web-{bound}", daemon=True)
    thread.start()
    return WebServer(f"http://{shown}:{bound}/", server, thread)
