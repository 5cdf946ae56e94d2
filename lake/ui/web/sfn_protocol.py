"""The Step Functions API over HTTP, in AWS's JSON 1.0 protocol: `POST /` with
`X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body; the answer is the operation's
output shape as JSON, or an error as `{"__type", "message"}` with HTTP 400 (500 for a fault of
the server, whose details stay in its log).

The request must carry the target header and a JSON content type: a browser cannot send either
from a plain form, and a page of another site cannot send them without a CORS preflight that
this server never grants, so they also keep other sites from forging calls."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from lake.ui.web.sfn_errors import ApiError, from_runtime, validation
from lake.ui.web.sfn_model import InvalidRequest, check_request, operation_model, to_wire
from lake.ui.web.sfn_operations import OPERATIONS, StepFunctionsOperations

TARGET_PREFIX = "AWSStepFunctions."
JSON_CONTENT_TYPES = ("application/x-amz-json-1.0", "application/json")
MAX_REQUEST_BYTES = 1024 * 1024  # an execution input is at most 256 KiB
CONTENT_TYPE = "application/x-amz-json-1.0"
log = logging.getLogger(__name__)


def is_api_request() -> bool:
    """Whether the current request is addressed to the API (not to the console's pages)."""
    return request.method == "POST" and request.path == "/"


def api_error_response(error: ApiError) -> Response:
    """The JSON 1.0 error response of `error`."""
    response = Response(json.dumps(error.body()), status=error.status, content_type=CONTENT_TYPE)
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def add_api(app: Flask, operations: StepFunctionsOperations) -> Any:
    """Serve the API at `POST /` of `app`; returns the view (to exempt it from form CSRF)."""

    def step_functions_api() -> Response:
        try:
            name, params = _read_call()
            model = operation_model(name)
            handler = operations.handler(name)
            assert handler is not None  # _read_call accepts only OPERATIONS
            result = handler(check_request(model, params))
            body = json.dumps(to_wire(result, model.output_shape))
        except ApiError as e:
            return api_error_response(e)
        except InvalidRequest as e:
            return api_error_response(validation(str(e)))
        except Exception as e:
            known = from_runtime(e)
            if known is None:
                log.exception(
                    "the Step Functions API failed on %s", request.headers.get("X-Amz-Target")
                )
                known = ApiError(
                    "InternalFailure",
                    f"the local runtime failed on this request ({type(e).__name__}); "
                    "the `lake serve` log has the details",
                    status=500,
                )
            return api_error_response(known)
        response = Response(body, status=200, content_type=CONTENT_TYPE)
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    app.add_url_rule("/", "step_functions_api", step_functions_api, methods=["POST"])
    return step_functions_api


def _read_call() -> tuple[str, dict[str, Any]]:
    target = request.headers.get("X-Amz-Target", "")
    if not target:
        raise ApiError(
            "MissingAction",
            "the Step Functions API needs an X-Amz-Target header "
            f"({TARGET_PREFIX}<Operation>); use boto3 or the AWS CLI with --endpoint-url",
        )
    operation = target.removeprefix(TARGET_PREFIX)
    if not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
        raise ApiError(
            "UnknownOperationException",
            f"the local runtime does not answer {target!r}; it answers {', '.join(OPERATIONS)}",
        )
    if request.mimetype not in JSON_CONTENT_TYPES:
        raise ApiError(
            "SerializationException",
            f"Content-Type must be {CONTENT_TYPE}, not {request.mimetype or 'missing'!r}",
        )
    request.max_content_length = MAX_REQUEST_BYTES  # werkzeug refuses to read beyond it
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge as e:
        raise ApiError(
            "SerializationException", "the request body is larger than 1 MiB", 413
        ) from e
    try:
        params = json.loads(raw or b"{}")
    except ValueError as e:
        raise ApiError("SerializationException", f"the request body is not JSON: {e}") from e
    if not isinstance(params, dict):
        raise ApiError("SerializationException", "the request body must be a JSON object")
    return operation, params
