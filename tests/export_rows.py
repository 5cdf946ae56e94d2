"""A valid export row, shared by the Python and the Spark tests of the contract's rules."""

from __future__ import annotations

from contract import columns as c

VALID_ROW: dict[str, str | None] = {
    c.ORIGIN_ID: "2922",
    c.ORIGIN_NAME: 'Rua "Augusta", São Paulo',
    c.DESTINATION_ID: "9",
    c.DESTINATION_NAME: "Movement Zone 9",
    c.DATE_RANGE: "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
    c.MEAN_TRAVEL_TIME: "2164",
    c.LOWER_TRAVEL_TIME: "1666",
    c.UPPER_TRAVEL_TIME: "2809",
}


def valid_row(changes: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """VALID_ROW with some values replaced (keys are the export's column names)."""
    return {**VALID_ROW, **(changes or {})}
