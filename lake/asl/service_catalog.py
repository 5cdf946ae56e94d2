"""Which ``arn:aws:states:::service:action[.pattern]`` Resources Step Functions accepts.

Step Functions guide, "Integrating optimized services with Step Functions"
(connect-supported-services / integrate-optimized): each optimized service supports Request
Response and some of Run a Job (``.sync``) and Wait for Callback (``.waitForTaskToken``); AWS SDK
integrations (``aws-sdk:service:action``) support Request Response and ``.waitForTaskToken`` but
never ``.sync``. Each service's own page lists its actions ("Optimized ... APIs"); where that
list is recorded here, any other action is refused at load, as AWS's validator refuses e.g.
``dynamodb:query`` (only getItem, putItem, updateItem and deleteItem are optimized; Query is
reachable through ``aws-sdk:dynamodb:query``).

The ``s3`` actions below exist only for a Distributed Map's ItemReader and ResultWriter
("ItemReader (Map)", "ResultWriter (Map)"); a Task state cannot use them.
"""

from __future__ import annotations

REQUEST_RESPONSE = ""
SYNC = ".sync"
SYNC_2 = ".sync:2"
CALLBACK = ".waitForTaskToken"

# service -> (patterns it supports, its optimized actions or None where not recorded here)
OPTIMIZED: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "apigateway": (frozenset({REQUEST_RESPONSE, CALLBACK}), frozenset({"invoke"})),
    "athena": (
        frozenset({REQUEST_RESPONSE, SYNC}),
        frozenset(
            {
                "startQueryExecution",
                "stopQueryExecution",
                "getQueryExecution",
                "getQueryResults",
            }
        ),
    ),
    "batch": (frozenset({REQUEST_RESPONSE, SYNC}), frozenset({"submitJob"})),
    "bedrock": (frozenset({REQUEST_RESPONSE, SYNC, CALLBACK}), None),
    "codebuild": (frozenset({REQUEST_RESPONSE, SYNC}), None),
    "dynamodb": (
        frozenset({REQUEST_RESPONSE}),
        frozenset({"getItem", "putItem", "updateItem", "deleteItem"}),
    ),
    "ecs": (frozenset({REQUEST_RESPONSE, SYNC, CALLBACK}), frozenset({"runTask"})),
    "eks": (frozenset({REQUEST_RESPONSE, SYNC, CALLBACK}), None),
    "elasticmapreduce": (frozenset({REQUEST_RESPONSE, SYNC}), None),
    "emr-containers": (frozenset({REQUEST_RESPONSE, SYNC}), None),
    "emr-serverless": (frozenset({REQUEST_RESPONSE, SYNC}), None),
    "events": (frozenset({REQUEST_RESPONSE, CALLBACK}), frozenset({"putEvents"})),
    "glue": (frozenset({REQUEST_RESPONSE, SYNC}), frozenset({"startJobRun"})),
    "databrew": (frozenset({REQUEST_RESPONSE, SYNC}), frozenset({"startJobRun"})),
    "http": (frozenset({REQUEST_RESPONSE}), frozenset({"invoke"})),
    "lambda": (frozenset({REQUEST_RESPONSE, CALLBACK}), frozenset({"invoke"})),
    "mediaconvert": (frozenset({REQUEST_RESPONSE, SYNC}), frozenset({"createJob"})),
    "sagemaker": (frozenset({REQUEST_RESPONSE, SYNC}), None),
    "sns": (frozenset({REQUEST_RESPONSE, CALLBACK}), frozenset({"publish"})),
    "sqs": (frozenset({REQUEST_RESPONSE, CALLBACK}), frozenset({"sendMessage"})),
    # Step Functions guide, "Start a new AWS Step Functions state machine from a running
    # execution": .sync returns Output as a JSON string, .sync:2 as parsed JSON.
    "states": (
        frozenset({REQUEST_RESPONSE, SYNC, SYNC_2, CALLBACK}),
        frozenset({"startExecution"}),
    ),
}

# Distributed Map only: ItemReader (listObjectsV2, getObject) and ResultWriter (putObject).
ITEM_READER_RESOURCES = frozenset(
    {"arn:aws:states:::s3:listObjectsV2", "arn:aws:states:::s3:getObject"}
)
RESULT_WRITER_RESOURCES = frozenset({"arn:aws:states:::s3:putObject"})


def split_pattern(action: str) -> tuple[str, str]:
    """``startJobRun.sync`` -> ``("startJobRun", ".sync")``; no pattern -> ``(action, "")``."""
    for pattern in (SYNC_2, SYNC, CALLBACK):
        if action.endswith(pattern):
            return action[: -len(pattern)], pattern
    return action, REQUEST_RESPONSE


def check_task_resource(resource_type: str, resource: str) -> None:
    """Raise ValueError when AWS would refuse this Task Resource; say why."""
    action, pattern = split_pattern(resource)
    if resource_type.startswith("aws-sdk:"):
        if pattern not in (REQUEST_RESPONSE, CALLBACK):
            raise ValueError(
                f"AWS SDK integrations support no '{pattern}' pattern (only request-response "
                "and .waitForTaskToken)"
            )
        return
    if resource_type not in OPTIMIZED:
        raise ValueError(f"'{resource_type}' is not a Step Functions optimized integration")
    patterns, actions = OPTIMIZED[resource_type]
    if actions is not None and action not in actions:
        raise ValueError(
            f"'{resource_type}:{action}' is not an optimized integration action (supported: "
            f"{', '.join(sorted(actions))}; other actions go through aws-sdk:{resource_type}:...)"
        )
    if pattern not in patterns:
        raise ValueError(f"'{resource_type}' does not support the '{pattern}' integration pattern")


def is_callback(resource: str) -> bool:
    """Whether a Resource uses the Wait for Callback (task token) pattern."""
    return resource.endswith(CALLBACK)
