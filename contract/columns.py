"""The columns of a travel-times export and of the `travel_times` table."""

from __future__ import annotations

from dataclasses import dataclass

# Header names in the export (compared after trimming surrounding spaces; any order).
ORIGIN_ID = "Origin Movement ID"
ORIGIN_NAME = "Origin Display Name"
DESTINATION_ID = "Destination Movement ID"
DESTINATION_NAME = "Destination Display Name"
DATE_RANGE = "Date Range"
MEAN_TRAVEL_TIME = "Mean Travel Time (Seconds)"
LOWER_TRAVEL_TIME = "Range - Lower Bound Travel Time (Seconds)"
UPPER_TRAVEL_TIME = "Range - Upper Bound Travel Time (Seconds)"

SOURCE_COLUMNS: tuple[str, ...] = (
    ORIGIN_ID,
    ORIGIN_NAME,
    DESTINATION_ID,
    DESTINATION_NAME,
    DATE_RANGE,
    MEAN_TRAVEL_TIME,
    LOWER_TRAVEL_TIME,
    UPPER_TRAVEL_TIME,
)
# Every column but the two bounds must hold a value.
REQUIRED_VALUES: tuple[str, ...] = (
    ORIGIN_ID,
    ORIGIN_NAME,
    DESTINATION_ID,
    DESTINATION_NAME,
    DATE_RANGE,
    MEAN_TRAVEL_TIME,
)
MOVEMENT_ID_COLUMNS = (ORIGIN_ID, DESTINATION_ID)
TRAVEL_TIME_COLUMNS = (MEAN_TRAVEL_TIME, LOWER_TRAVEL_TIME, UPPER_TRAVEL_TIME)

# Why a row was set aside, in the order they are checked (the first that applies wins).
MALFORMED_ROW = "malformed_row"
MISSING_FIELD = "missing_field"
BAD_MOVEMENT_ID = "bad_movement_id"
BAD_DATE_RANGE = "bad_date_range"
BAD_TRAVEL_TIME = "bad_travel_time"
REJECT_REASONS: tuple[str, ...] = (
    MALFORMED_ROW,
    MISSING_FIELD,
    BAD_MOVEMENT_ID,
    BAD_DATE_RANGE,
    BAD_TRAVEL_TIME,
)
DEFAULT_REJECT_THRESHOLD = 0.01  # a run fails when more than this share of rows is rejected


@dataclass(frozen=True)
class TableColumn:
    name: str
    athena_type: str  # Athena/Hive DDL type
    comment: str


TABLE_NAME = "travel_times"
DEFAULT_DATABASE = "uber_movement"

DATA_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("origin_movement_id", "bigint", ORIGIN_ID),
    TableColumn("origin_display_name", "string", ORIGIN_NAME),
    TableColumn("destination_movement_id", "bigint", DESTINATION_ID),
    TableColumn("destination_display_name", "string", DESTINATION_NAME),
    TableColumn("date_range", "string", "Date Range, verbatim"),
    TableColumn("start_date", "date", "first date of Date Range"),
    TableColumn("end_date", "date", "second date of Date Range"),
    TableColumn("day_type", "string", "<days> part of Date Range, or null"),
    TableColumn("time_of_day", "string", "<time of day> part of Date Range, or null"),
    TableColumn("mean_travel_time_s", "double", MEAN_TRAVEL_TIME),
    TableColumn("lower_bound_travel_time_s", "double", LOWER_TRAVEL_TIME),
    TableColumn("upper_bound_travel_time_s", "double", UPPER_TRAVEL_TIME),
    TableColumn("source_key", "string", "raw object key"),
    TableColumn("ingested_at", "timestamp", "when the run wrote the row (UTC)"),
)
PARTITION_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("city", "string", "city slug of the raw key"),
    TableColumn("year", "int", "year of start_date"),
    TableColumn("month", "int", "month of start_date"),
    TableColumn("day", "int", "day of start_date"),
)
