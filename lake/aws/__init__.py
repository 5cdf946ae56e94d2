"""The AWS services the workflow calls, played on one machine: buckets as folders (`s3`), the
Lambda, Glue and Athena task integrations (`lambda_`, `glue`, `athena`, over the local SQL engine
`sql_engine` and the local Spark `spark`), a Distributed Map's S3 reads and writes (`s3_items`),
Step Functions starting Step Functions (`step_functions`), SNS e-mail (`sns`), CloudWatch Logs as
one file per execution (`logs`), and EventBridge's event shapes and pattern matching (`events`,
`event_patterns`). Each is a thin adapter; none knows of the others' state or of the runtime.

May import: `lake.asl` (the task interface), `lake.home`, `contract`, `functions`, `glue`.

Task integrations are keyed by the Task `Resource` ARN they serve."""

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
GLUE_START_JOB_RUN_SYNC = "arn:aws:states:::glue:startJobRun.sync"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
ATHENA_START_QUERY_SYNC = "arn:aws:states:::athena:startQueryExecution.sync"
# A Distributed Map's ItemReader and ResultWriter (not Task resources).
S3_LIST_OBJECTS_ITEMS = "arn:aws:states:::s3:listObjectsV2"
S3_GET_OBJECT_ITEMS = "arn:aws:states:::s3:getObject"
S3_PUT_OBJECT_RESULTS = "arn:aws:states:::s3:putObject"
