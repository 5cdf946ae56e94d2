"""The columns of a travel-times export and of the `travel_times` table."""

from __future__ import annotations

from dataclasses import dataclass

# The fields of a logical row: what every accepted format's declaration (contract.formats) maps
# its own columns to, and what the rules (contract.values) and the job check. Values are text.
ORIGIN_ID = "origin_id"
ORIGIN_NAME = "origin_name"
DESTINATION_ID = "destination_id"
DESTINATION_NAME = "destination_name"
DATE_RANGE = "date_range"  # the Date Range, or the daily export's Date, as written
MEAN_TRAVEL_TIME = "mean"
LOWER_TRAVEL_TIME = "lower"
UPPER_TRAVEL_TIME = "upper"
TRAVEL_DISTANCE = "distance"  # optional (Movement's `TravelDistance (meters)`)
CITY = "city"  # optional (the data.world copy's `city` column)
DAY_OF_WEEK = "day_of_week"  # the Day Of Week export's column
PERIOD = "period"  # the Time Of Day export's column, or the daily export's period

# The fields a row cannot do without (an empty mean is "no measurement", not a missing field,
# see contract.values; real exports leave a display name empty here and there, which is kept).
REQUIRED_VALUES: tuple[str, ...] = (ORIGIN_ID, DESTINATION_ID, DATE_RANGE)
MOVEMENT_ID_COLUMNS = (ORIGIN_ID, DESTINATION_ID)
TRAVEL_TIME_COLUMNS = (MEAN_TRAVEL_TIME, LOWER_TRAVEL_TIME, UPPER_TRAVEL_TIME)
NUMBER_COLUMNS = (*TRAVEL_TIME_COLUMNS, TRAVEL_DISTANCE)  # non-negative, finite, where present

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
# A row (or daily period) with an empty mean and otherwise valid fields: not written, not a
# reject, counted (and not against the threshold).
NO_MEASUREMENT = "no_measurement"


@dataclass(frozen=True)
class TableColumn:
    name: str
    athena_type: str  # Athena/Hive DDL type
    comment: str


TABLE_NAME = "travel_times"
DEFAULT_DATABASE = "uber_movement"

DATA_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("origin_movement_id", "bigint", "Origin Movement ID"),
    TableColumn("origin_display_name", "string", "Origin Display Name"),
    TableColumn("destination_movement_id", "bigint", "Destination Movement ID"),
    TableColumn("destination_display_name", "string", "Destination Display Name"),
    TableColumn("date_range", "string", "Date Range (or the daily export's Date), verbatim"),
    TableColumn("start_date", "date", "first date of Date Range"),
    TableColumn("end_date", "date", "second date of Date Range"),
    TableColumn("day_type", "string", "Every day, Weekdays, Weekends or a day of the week"),
    TableColumn("time_of_day", "string", "Daily Average, AM Peak, Midday, PM Peak, ..."),
    TableColumn("mean_travel_time_s", "double", "Mean Travel Time (Seconds)"),
    TableColumn("lower_bound_travel_time_s", "double", "Range - Lower Bound Travel Time"),
    TableColumn("upper_bound_travel_time_s", "double", "Range - Upper Bound Travel Time"),
    TableColumn("source_key", "string", "raw object key"),
    TableColumn("ingested_at", "timestamp", "when the run wrote the row (UTC)"),
    # Added in place to lakes made before (columns are only ever appended, nullable).
    TableColumn("travel_distance_m", "double", "TravelDistance (meters), where given"),
    TableColumn("source_format", "string", "the accepted format the row came from"),
)
PARTITION_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("city", "string", "city slug of the raw key"),
    TableColumn("year", "int", "year of start_date"),
    TableColumn("month", "int", "month of start_date"),
    TableColumn("day", "int", "day of start_date"),
)
