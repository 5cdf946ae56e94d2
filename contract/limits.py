"""What one run parses safely, and the AWS limits the workflow is designed under. A file past
the first three is rejected ("fix the file and upload it again"), found without exhausting
memory: from the head of the file by the validator where the head shows it, by the job where
only the whole file does."""

MAX_COLUMNS = 1_000  # header fields
MAX_FIELD_CHARS = 1024 * 1024  # one field (1 MiB of characters)
DEFAULT_MAX_INFLATED_BYTES = 20 * 1024**3  # what a .csv.gz may inflate to (configurable)

# Step Functions: 256 KiB per state input/output (UTF-8), and Athena: 262,144 bytes per query
# string ("Service quotas" pages of both). The workflow carries a small summary between states
# and registers partitions in statements well under the query limit.
STATE_PAYLOAD_BYTES = 262_144
ATHENA_QUERY_BYTES = 262_144
REGISTER_STATEMENT_BYTES = 96 * 1024  # one ALTER TABLE ... ADD PARTITION batch, at most
