"""Who may use the console and the API, and from where.

- **Loopback only, unless told otherwise**: serving on any other address needs a token
  (`start_web` refuses without one). With a token, every request must present it: the console
  takes it once from `?token=...` (the URL `lake serve` prints) and keeps it in an HttpOnly
  cookie; API clients send it as their access key id (boto3's `aws_access_key_id`, the AWS CLI's
  `AWS_ACCESS_KEY_ID`: it travels in the SigV4 Authorization header) or in `X-Lake-Token`.
  Compared in constant time.
- **Host check**: on loopback, a request must name a loopback host, so that a web page whose
  domain is re-pointed at 127.0.0.1 (DNS rebinding) cannot read the console.
- **Cross-site requests**: a request that changes something must not come from another origin
  (`Origin` / `Sec-Fetch-Site`); the console's forms carry a CSRF token (Flask-WTF) and the API
  needs headers a form cannot send (see sfn_protocol).
- **Headers**: a Content-Security-Policy that allows no script and no other origin, no framing,
  no MIME sniffing, no referrer to other sites."""

from __future__ import annotations

import hmac
import ipaddress
import re
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, redirect, request

from lake.ui.web.sfn_errors import ApiError
from lake.ui.web.sfn_protocol import api_error_response, is_api_request

TOKEN_COOKIE = "lake_console_token"  # + the port: consoles of other homes on other ports
TOKEN_HEADER = "X-Lake-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_SIGV4_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own
    # forms (Fetch standard), and the origin check would refuse them.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is this machine's
    loopback."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Refusal(Exception):
    """A request refused before it reaches a page or the API: status and a message that says
    what to do."""

    def __init__(self, status: int, message: str, code: str = "AccessDeniedException") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Guard:
    """The checks every request passes (installed with `install`)."""

    def __init__(self, token: str | None, loopback_only: bool) -> None:
        self.token = token
        self.loopback_only = loopback_only
        self.cookie = TOKEN_COOKIE  # `start_web` adds the port once it is bound

    def install(self, app: Flask, refused: type) -> None:
        """Run the checks before every request of `app`; `refused(Refusal)` makes the page that
        answers a refused console request."""

        @app.before_request
        def check_request() -> Response | None:
            try:
                self._check_host()
                login = self._check_token()
                if login is not None:
                    return login
                if request.method not in SAFE_METHODS:
                    self._check_origin()
            except Refusal as refusal:
                if is_api_request():
                    return api_error_response(
                        ApiError(refusal.code, refusal.message, refusal.status)
                    )
                return refused(refusal)
            return None

        @app.after_request
        def add_headers(response: Response) -> Response:
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

    def _check_host(self) -> None:
        hostname = urlsplit(f"//{request.host}").hostname or ""
        if self.loopback_only and not is_loopback(hostname):
            raise Refusal(
                400,
                f"this console answers on loopback names only (localhost, 127.0.0.1), not "
                f"{hostname!r}",
            )

    def _check_token(self) -> Response | None:
        if self.token is None:
            return None
        offered = request.args.get("token") if request.method == "GET" else None
        if offered is not None and self._matches(offered):
            # Keep it in a cookie and take it out of the address bar (and of the history).
            args = request.args.to_dict(flat=False)
            args.pop("token")
            target = request.path + ("?" + _query(args) if args else "")
            response = redirect(target, code=303)
            response.set_cookie(self.cookie, offered, httponly=True, samesite="Lax")
            return response
        for candidate in self._presented():
            if self._matches(candidate):
                return None
        if is_api_request():
            raise Refusal(
                400,
                "The security token included in the request is invalid: give this server's "
                f"token as the access key id (aws_access_key_id) or in the {TOKEN_HEADER} header",
                code="UnrecognizedClientException",
            )
        raise Refusal(
            401,
            "this console needs its token: open the address `lake serve` printed (it ends in "
            "?token=...)",
        )

    def _presented(self) -> list[str]:
        found = [request.cookies.get(self.cookie), request.headers.get(TOKEN_HEADER)]
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            found.append(authorization.removeprefix("Bearer ").strip())
        credential = _SIGV4_CREDENTIAL.search(authorization)
        if credential:
            found.append(credential.group(1))
        return [value for value in found if value]

    def _matches(self, candidate: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def _check_origin(self) -> None:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise Refusal(403, "a request from another site may not change anything here")
        origin = request.headers.get("Origin")
        if origin is None:
            return  # not sent by a browser (boto3, the AWS CLI, curl)
        if origin != f"{request.scheme}://{request.host}":
            raise Refusal(
                403,
                f"a request from {origin} may not change anything here; use the console's own "
                "pages",
            )


def _query(args: dict[str, list[str]]) -> str:
    return urlencode([(key, value) for key, values in args.items() for value in values])
