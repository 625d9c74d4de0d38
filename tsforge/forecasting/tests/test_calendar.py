"""Calendar columns: known sin/cos values, holidays by country and region, time zones."""

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tsforge.forecasting.calendar import CalendarEncoder, CalendarSpec


def instants(*texts: str) -> np.ndarray:
    return np.array([np.datetime64(text, "ns") for text in texts]).astype(np.int64)


def column(spec: CalendarSpec, name: str, *texts: str) -> np.ndarray:
    encoded = CalendarEncoder(spec).encode(instants(*texts))
    return encoded[:, spec.column_names().index(name)]


ALL = CalendarSpec(year=True, month=True, week=True, day=True, holiday=True, holiday_country="DE")


def test_column_names_in_order():
    assert ALL.column_names() == (
        "calendar.year_sin",
        "calendar.year_cos",
        "calendar.month_sin",
        "calendar.month_cos",
        "calendar.week_sin",
        "calendar.week_cos",
        "calendar.day_sin",
        "calendar.day_cos",
        "calendar.holiday",
    )
    assert CalendarSpec().column_names() == ()


def test_day_position_at_known_times():
    spec = CalendarSpec(day=True)
    np.testing.assert_allclose(
        column(spec, "calendar.day_sin", "2024-05-01T00:00", "2024-05-01T06:00", "2024-05-01T18:00"),
        [0, 1, -1],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        column(spec, "calendar.day_cos", "2024-05-01T00:00", "2024-05-01T12:00"), [1, -1], atol=1e-12
    )


def test_week_year_and_month_positions():
    # 2024-01-01 was a Monday: the week and the year start at 00:00 that day.
    np.testing.assert_allclose(
        CalendarEncoder(ALL).encode(instants("2024-01-01T00:00"))[0, :8], [0, 1, 0, 1, 0, 1, 0, 1], atol=1e-12
    )
    # Thursday noon: 3.5 days into the week.
    week = column(ALL, "calendar.week_sin", "2024-01-04T12:00")
    np.testing.assert_allclose(week, np.sin(2 * np.pi * 3.5 / 7))
    # 2024 is a leap year: 1 July 00:00 is 182 days into 366.
    np.testing.assert_allclose(column(ALL, "calendar.year_cos", "2024-07-01T00:00"), np.cos(2 * np.pi * 182 / 366))
    np.testing.assert_allclose(column(ALL, "calendar.year_cos", "2023-07-02T12:00"), np.cos(2 * np.pi * 182.5 / 365))
    # 16 February 2024 00:00: 15 days into 29; in 2023 into 28.
    np.testing.assert_allclose(
        column(ALL, "calendar.month_sin", "2024-02-16T00:00", "2023-02-15T00:00"),
        [np.sin(2 * np.pi * 15 / 29), np.sin(2 * np.pi * 14 / 28)],
    )


def test_holidays_of_a_country_and_of_a_subdivision():
    christmas = column(ALL, "calendar.holiday", "2024-12-25T10:00", "2024-12-23T10:00", "2024-10-03T00:00")
    np.testing.assert_array_equal(christmas, [1, 0, 1])  # 3 October: German Unity Day
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin nor Germany as a whole.
    epiphany = "2024-01-06T12:00"
    assert column(ALL, "calendar.holiday", epiphany)[0] == 0
    bavaria = CalendarSpec(holiday=True, holiday_country="DE", holiday_subdivision="BY")
    assert column(bavaria, "calendar.holiday", epiphany)[0] == 1
    # Austria has it nationwide; the country matters.
    assert column(CalendarSpec(holiday=True, holiday_country="AT"), "calendar.holiday", epiphany)[0] == 1


def test_holidays_load_for_any_year_seen():
    years = column(ALL, "calendar.holiday", "1995-12-25T12:00", "2031-12-25T12:00", "2031-12-27T12:00")
    np.testing.assert_array_equal(years, [1, 1, 0])


def test_time_zone_moves_the_day_and_the_date():
    vienna = CalendarSpec(day=True, holiday=True, holiday_country="AT", time_zone="Europe/Vienna")
    # 2024-12-24T23:30Z is 00:30 on Christmas Day in Vienna (UTC+1).
    encoded = CalendarEncoder(vienna).encode(instants("2024-12-24T23:30"))[0]
    np.testing.assert_allclose(encoded[:2], [np.sin(2 * np.pi * 0.5 / 24), np.cos(2 * np.pi * 0.5 / 24)])
    assert encoded[2] == 1
    utc = CalendarSpec(day=True, holiday=True, holiday_country="AT")
    np.testing.assert_allclose(
        CalendarEncoder(utc).encode(instants("2024-12-24T23:30"))[0],
        [np.sin(2 * np.pi * 23.5 / 24), np.cos(2 * np.pi * 23.5 / 24), 0],
    )


def test_local_time_follows_daylight_saving_like_zoneinfo():
    spec = CalendarSpec(day=True, time_zone="Europe/Berlin")
    texts = ["2024-03-31T00:30", "2024-03-31T01:30", "2024-10-27T00:30", "2024-10-27T01:30"]
    expected = []
    for text in texts:
        local = datetime.fromisoformat(text + "+00:00").astimezone(ZoneInfo("Europe/Berlin"))
        expected.append(np.sin(2 * np.pi * (local.hour + local.minute / 60) / 24))
    np.testing.assert_allclose(column(spec, "calendar.day_sin", *texts), expected, atol=1e-12)


def test_shape_follows_the_instants():
    encoded = CalendarEncoder(ALL).encode(
        instants("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04").reshape(2, 2)
    )
    assert encoded.shape == (2, 2, 9)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (CalendarSpec(time_zone="Mars/Olympus"), "time zone"),
        (CalendarSpec(holiday=True), "holiday_country"),
        (CalendarSpec(holiday=True, holiday_country="XX"), "holidays package"),
        (CalendarSpec(holiday=True, holiday_country="DE", holiday_subdivision="ZZ"), "holidays package"),
    ],
)
def test_bad_calendar_specs_raise(spec, message):
    with pytest.raises(ValueError, match=message):
        CalendarEncoder(spec)
