"""Calendar features of instants: cyclic positions (sin + cos) and a holiday flag.

Positions are taken on the local wall clock of the chosen IANA time zone, so a day
starts at local midnight and daylight-saving days are 23 or 25 hours long on the
clock but still one cycle:

- day:   time since local midnight / 24 h
- week:  (days since Monday + position within the day) / 7
- month: (day of month - 1 + position within the day) / days in that month
- year:  (day of year - 1 + position within the day) / days in that year (365 or 366)

Each position x in [0, 1) becomes the columns sin(2 pi x) and cos(2 pi x). The holiday
column is 1 on the local dates the `holidays` package lists for the country (and
subdivision), else 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import numpy as np
import pandas as pd

_DAY_NS = 86_400 * 10**9
_CYCLES = ("year", "month", "week", "day")


@dataclass(frozen=True)
class CalendarSpec:
    """Which calendar features to add; all off by default. Mirrors CalendarFeatures."""

    year: bool = False
    month: bool = False
    week: bool = False
    day: bool = False
    holiday: bool = False
    holiday_country: str = ""
    holiday_subdivision: str = ""
    time_zone: str = "UTC"

    def column_names(self) -> tuple[str, ...]:
        """Names of the columns in the order they are produced, e.g. "calendar.day_sin"."""
        names = [f"calendar.{cycle}_{part}" for cycle in _CYCLES if getattr(self, cycle) for part in ("sin", "cos")]
        if self.holiday:
            names.append("calendar.holiday")
        return tuple(names)


class CalendarEncoder:
    """Computes a CalendarSpec's columns; holds the holiday dates it has looked up.

    Raises ValueError for an unknown time zone, or, when holiday is on, a missing or
    unknown country or subdivision.
    """

    def __init__(self, spec: CalendarSpec) -> None:
        self._spec = spec
        self.column_names = spec.column_names()
        try:
            self._zone = ZoneInfo(spec.time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {spec.time_zone!r}") from error
        self._holiday_days = np.empty(0, dtype=np.int64)
        self._holiday_years: tuple[int, int] | None = None
        if spec.holiday:
            if not spec.holiday_country:
                raise ValueError("holiday_country is required when the holiday feature is on")
            self._load_holidays(1970, 1970)

    def encode(self, instants: np.ndarray) -> np.ndarray:
        """Columns for int64 nanoseconds since the epoch (UTC), any shape.

        Returns float64 of shape instants.shape + (len(column_names),).
        """
        local = self._local_wall_clock(instants.ravel())
        days = local // _DAY_NS
        within_day = (local - days * _DAY_NS) / _DAY_NS
        columns = []
        for cycle in _CYCLES:
            if getattr(self._spec, cycle):
                angle = 2 * np.pi * _position(cycle, days, within_day)
                columns += [np.sin(angle), np.cos(angle)]
        if self._spec.holiday:
            columns.append(self._holiday_flags(days))
        encoded = np.stack(columns, axis=-1) if columns else np.empty((local.size, 0))
        return encoded.reshape(*instants.shape, len(self.column_names))

    def _local_wall_clock(self, instants: np.ndarray) -> np.ndarray:
        if self._zone.key == "UTC":
            return instants
        utc = pd.DatetimeIndex(instants.view("datetime64[ns]"), tz="UTC")
        return utc.tz_convert(self._zone).tz_localize(None).as_unit("ns").asi8

    def _holiday_flags(self, days: np.ndarray) -> np.ndarray:
        if days.size:
            years = days.view("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
            self._load_holidays(int(years.min()), int(years.max()))
        return np.isin(days, self._holiday_days).astype(np.float64)

    def _load_holidays(self, first_year: int, last_year: int) -> None:
        if self._holiday_years is not None:
            known_first, known_last = self._holiday_years
            if known_first <= first_year and last_year <= known_last:
                return
            first_year, last_year = min(first_year, known_first), max(last_year, known_last)
        try:
            dates = holidays.country_holidays(
                self._spec.holiday_country,
                subdiv=self._spec.holiday_subdivision or None,
                years=range(first_year, last_year + 1),
            )
        except NotImplementedError as error:
            raise ValueError(
                f"the holidays package does not know country {self._spec.holiday_country!r}"
                f" with subdivision {self._spec.holiday_subdivision!r}"
            ) from error
        self._holiday_days = np.array(sorted(dates), dtype="datetime64[D]").astype(np.int64)
        self._holiday_years = (first_year, last_year)


def _position(cycle: str, days: np.ndarray, within_day: np.ndarray) -> np.ndarray:
    if cycle == "day":
        return within_day
    if cycle == "week":
        # 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
        return ((days + 3) % 7 + within_day) / 7
    unit = "datetime64[M]" if cycle == "month" else "datetime64[Y]"
    period = days.view("datetime64[D]").astype(unit)
    period_start = period.astype("datetime64[D]").astype(np.int64)
    period_days = (period + 1).astype("datetime64[D]").astype(np.int64) - period_start
    return (days - period_start + within_day) / period_days


def holiday_dates_by_year(spec: CalendarSpec, first_year: int, last_year: int) -> dict[int, list[str]]:
    """The ISO dates the `holidays` package lists for the spec's country (and subdivision)
    when it is asked for each year from first_year to last_year on its own: what a
    program without that package needs to reproduce CalendarEncoder's holiday column
    (the encoder asks for every year from 1970, or earlier, to the last one it encodes).

    Raises ValueError for a missing or unknown country or subdivision.
    """
    if not spec.holiday_country:
        raise ValueError("holiday_country is required when the holiday feature is on")
    by_year = {}
    for year in range(first_year, last_year + 1):
        try:
            dates = holidays.country_holidays(spec.holiday_country, subdiv=spec.holiday_subdivision or None, years=year)
        except NotImplementedError as error:
            raise ValueError(
                f"the holidays package does not know country {spec.holiday_country!r}"
                f" with subdivision {spec.holiday_subdivision!r}"
            ) from error
        by_year[year] = [day.isoformat() for day in sorted(dates)]
    return by_year
