"""A partition of the `travel_times` table: city/year/month/day, as folder and as catalog values."""

from __future__ import annotations

from typing import NamedTuple

from contract.columns import PARTITION_COLUMNS
from contract.layout import partition_path

PARTITION_NAMES: tuple[str, ...] = tuple(col.name for col in PARTITION_COLUMNS)
# One run writes one city, into that city's folder: Spark partitions its rows by the date alone.
CITY_NAME = PARTITION_NAMES[0]
DATE_PARTITION_NAMES = PARTITION_NAMES[1:]


class Partition(NamedTuple):
    city: str
    year: int
    month: int
    day: int

    @property
    def path(self) -> str:
        """The Hive-style folder below the table root: `city=bogota/year=2019/month=6/day=1`."""
        return partition_path(self.city, self.year, self.month, self.day)

    def as_dict(self) -> dict[str, str | int]:
        return self._asdict()

    @classmethod
    def from_path(cls, path: str) -> Partition:
        """The partition named by the `name=value` folders in `path` (other segments ignored)."""
        values = dict(segment.split("=", 1) for segment in path.split("/") if "=" in segment)
        try:
            return cls(
                values["city"], int(values["year"]), int(values["month"]), int(values["day"])
            )
        except (KeyError, ValueError) as e:
            raise ValueError(f"{path!r} is not inside a city/year/month/day partition") from e
