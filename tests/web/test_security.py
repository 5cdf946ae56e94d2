"""The console is safe on a shared machine: loopback only unless told otherwise (then a token
is required), no request from another site changes anything, user text is escaped everywhere,
and a bad request gets a clear error, never a stack trace."""

from __future__ import annotations

import json

import pytest

from lake.ui.web import start_web

from .web_support import (
    Browserless,
    api_call,
    finished,
    http,
    latin1_export,
    sfn_client,
)

HOSTILE = '<img src=x onerror="alert(1)">&amp;'
TOKEN = "s3cret-token_for-tests"


def test_serving_beyond_loopback_needs_a_token(quiet_lake):
    with pytest.raises(ValueError, match="give a token"):
        start_web(quiet_lake, host="0.0.0.0")
    with pytest.raises(ValueError, match="must not be empty"):
        start_web(quiet_lake, token=" ")


def test_with_a_token_every_request_must_present_it(quiet_lake):
    web = start_web(quiet_lake, host="0.0.0.0", token=TOKEN)
    try:
        url = f"http://127.0.0.1:{web.port}/"
        page = Browserless(url)
        # A page without the token, or with a wrong one, is refused with what to do
        refused = page.get("/executions")
        assert refused.status == 401 and b"?token=" in refused.data
        assert page.get("/executions?token=wrong").status == 401
        # The right token is taken once from the address, kept in an HttpOnly cookie, and
        # taken out of the address
        login = page.get(f"/executions?status=FAILED&token={TOKEN}")
        assert login.status == 303
        assert login.headers["Location"] == "/executions?status=FAILED"
        [cookie] = [c for c in login.headers.getlist("Set-Cookie") if TOKEN in c]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert page.get("/executions").status == 200
        # The API takes it as the access key id (boto3, the AWS CLI) or in X-Lake-Token
        assert sfn_client(url, access_key=TOKEN).list_state_machines()["stateMachines"]
        stranger = sfn_client(url, access_key="guess")
        with pytest.raises(stranger.exceptions.ClientError, match="UnrecognizedClientException"):
            stranger.list_state_machines()
        assert api_call(url, "ListStateMachines", {}, **{"X-Lake-Token": TOKEN}).status == 200
        assert api_call(url, "ListStateMachines", {}).status == 400
        # Beyond loopback any host name may be used (the token protects)
        named = http.request(
            "GET", url + "executions", headers={"Host": "lake.example", "X-Lake-Token": TOKEN}
        )
        assert named.status == 200
    finally:
        web.close()


def test_on_loopback_a_foreign_host_name_is_refused(quiet_web):
    # A page of another site whose name now points at 127.0.0.1 (DNS rebinding)
    page = http.request("GET", quiet_web.url + "executions", headers={"Host": "evil.example"})
    assert page.status == 400 and b"loopback" in page.data
    api = api_call(quiet_web.url, "ListStateMachines", {}, Host="evil.example:80")
    assert api.status == 400
    assert json.loads(api.data)["__type"] == "AccessDeniedException"
    ok = http.request("GET", quiet_web.url + "executions", headers={"Host": "localhost"})
    assert ok.status == 200


def test_no_request_from_another_site_changes_anything(quiet_web, quiet_lake):
    console = Browserless(quiet_web.url)
    machine = quiet_lake.home.state_machine_arn
    start = {"stateMachineArn": machine, "input": "{}"}
    # The API: a form of another site can send neither X-Amz-Target nor a JSON content type
    form_post = http.request(
        "POST",
        quiet_web.url,
        body=b"stateMachineArn=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form_post.status == 400
    assert json.loads(form_post.data)["__type"] == "MissingAction"
    text_post = http.request(
        "POST",
        quiet_web.url,
        body=json.dumps(start).encode(),
        headers={"X-Amz-Target": "AWSStepFunctions.StartExecution", "Content-Type": "text/plain"},
    )
    assert json.loads(text_post.data)["__type"] == "SerializationException"
    # ... and a script of another origin is refused by its Origin
    foreign = api_call(quiet_web.url, "StartExecution", start, Origin="http://evil.example")
    assert foreign.status == 403
    # The console's forms: another origin, another site, or no CSRF token is refused
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = console.submit(
            "/query", "/query", {"sql": "DROP TABLE travel_times"}, headers=headers
        )
        assert refused.status == 403, headers
    tokenless = console.request("POST", "/query", fields={"sql": "DROP TABLE travel_times"})
    assert tokenless.status == 400 and b"CSRF" in tokenless.data
    # Nothing of the above started anything
    assert quiet_lake.executions() == []


def test_user_text_is_escaped_everywhere(quiet_web, quiet_lake, tmp_path):
    # GIVEN an upload through the console whose file name is markup (it fails at Validate,
    # and its name is in the key, the cause, the alert and the graph)
    console = Browserless(quiet_web.url)
    data = latin1_export(tmp_path / "x.csv").read_bytes()
    posted = console.submit(
        "/upload",
        "/upload",
        {"city": "bogota", "file": (f"{HOSTILE}.csv", data, "text/csv")},
    )
    assert posted.status == 303, posted.data
    name = posted.headers["Location"].rsplit("/", 1)[-1]
    finished(quiet_lake, name)
    # THEN no page carries it as markup, and every page shows it as text
    for path in (
        f"/executions/{name}",
        "/executions",
        "/upload",
        "/alerts",
        f"/executions/{name}/log",
    ):
        html = console.text(path)
        assert "<img src=x" not in html, path
        assert "&lt;img src=x" in html, path
    # AND SQL is shown as text too (a query that cannot run: no engine work)
    shown = console.submit("/query", "/query", {"sql": "   "})
    assert shown.status == 400
    assert b"Write a SQL statement" in shown.data


def test_every_response_carries_the_protective_headers(quiet_web):
    response = http.request("GET", quiet_web.url + "executions")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # no script at all
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/executions?status=NOPE", 400, b"there is no status"),
        ("/executions?machine=nope", 400, b"there is no state machine"),
        ("/executions?after=arn:aws:states:x", 400, b"start again from the first page"),
        ("/executions/no-such-execution", 404, b"no execution named"),
        ("/executions/no-such-execution/redrive", 404, b"no execution named"),
        ("/no/such/page", 404, b"no such page"),
    ],
)
def test_a_bad_request_gets_a_clear_page_not_a_trace(quiet_web, path, status, says):
    response = http.request("GET", quiet_web.url.rstrip("/") + path)
    assert response.status == status
    assert says in response.data
    assert b"Traceback" not in response.data and b'File "' not in response.data
