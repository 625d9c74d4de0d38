"""The bundle's predict.py against the platform's own code on plain data: calendar and
holiday columns (time zones, daylight saving, holidays), resampled windows (every
method, gaps, uneven points) and their coverage errors: the same numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from services.models import bundle_predict
from tsforge.forecasting.calendar import CalendarEncoder, CalendarSpec, holiday_dates_by_year
from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.windowing import Feature, FeatureSpec, Series, UncoveredWindow, WindowSpec, input_windows

HOUR = 3_600 * 10**9


def _calendar(spec: CalendarSpec) -> dict:
    dates = holiday_dates_by_year(spec, 1970, 2030) if spec.holiday else {}
    return {
        "columns": list(spec.column_names()),
        "cycles": [c for c in ("year", "month", "week", "day") if getattr(spec, c)],
        "holiday": spec.holiday,
        "time_zone": spec.time_zone,
        "holiday_dates": {str(year): days for year, days in dates.items()},
    }


@pytest.mark.parametrize("zone", ["UTC", "Europe/Vienna", "America/New_York", "Asia/Kolkata"])
def test_calendar_columns_match_the_encoder(zone):
    spec = CalendarSpec(year=True, month=True, week=True, day=True, holiday=True, holiday_country="AT", time_zone=zone)
    rng = np.random.default_rng(1)
    # Around the 2024 daylight-saving changes, new year, a leap day, and random instants.
    anchors = np.array(
        ["2024-03-31T00:30", "2024-10-27T00:30", "2023-12-31T22:00", "2024-02-28T23:00"], "datetime64[ns]"
    )
    steps = np.arange(0, 6 * 60, 15) * 60 * 10**9
    instants = (anchors.view(np.int64)[:, None] + steps[None, :]).ravel()
    instants = np.concatenate([instants, rng.integers(0, 60 * 365 * 86_400, 500) * 10**9 + rng.integers(0, 10**9, 500)])
    expected = CalendarEncoder(spec).encode(instants.reshape(-1, 4))
    produced = bundle_predict.calendar_columns(_calendar(spec), instants.reshape(-1, 4))
    assert produced.shape == expected.shape
    np.testing.assert_array_equal(produced, expected)


def _series(rng, hours: int = 200) -> Series:
    """Points every 10 minutes (jittered), a missing value and a 7-hour gap at 80 h."""
    count = hours * 6
    times = np.arange(count) * HOUR // 6 + rng.integers(-60, 60, count) * 10**9
    times = np.delete(times, np.arange(80 * 6, 87 * 6))
    values = rng.normal(10, 3, len(times))
    values[120] = np.nan
    return Series(times.view("datetime64[ns]"), values)


@pytest.mark.parametrize("method", list(ResamplingMethod))
@pytest.mark.parametrize(("start", "end", "steps"), [(-6, 0, 6), (-5, -1, 3), (-2.5, 0, 7)])
def test_resampled_windows_match_input_windows(method, start, end, steps):
    from tsforge.forecasting.windowing import window_edges

    rng = np.random.default_rng(steps)
    series = _series(rng)
    spec = FeatureSpec("x", start, end, method)
    window = WindowSpec(steps, 1, 60)
    references = np.array([10, 11, 12, 40, 150, 150, 30, 199 - 3], dtype=np.int64) * HOUR + 17 * 10**9
    expected = input_windows([Feature(spec, series)], window, references)
    valid = np.isfinite(series.values)
    times, values = series.times.view(np.int64)[valid], series.values[valid]
    edges = [int(e) for e in window_edges(spec, steps)]
    resampler = bundle_predict.Resampler("x", times, values, method.value, edges, None)
    produced = np.empty((len(references), steps, 1), dtype=np.float32)
    produced[:, :, 0] = resampler.windows(references)
    np.testing.assert_array_equal(produced, expected)


@pytest.mark.parametrize("reference_hour", [3, 84, 205])
def test_an_uncovered_window_is_refused_as_the_platform_refuses_it(reference_hour):
    rng = np.random.default_rng(0)
    series = _series(rng)
    spec = FeatureSpec("x", -6, 0, ResamplingMethod.LINEAR)
    references = np.array([50 * HOUR, reference_hour * HOUR], dtype=np.int64)
    with pytest.raises(UncoveredWindow):
        input_windows([Feature(spec, series)], WindowSpec(6, 1, 60), references)
    valid = np.isfinite(series.values)
    resampler = bundle_predict.Resampler(
        "x",
        series.times.view(np.int64)[valid],
        series.values[valid],
        "linear",
        [-6 * HOUR + k * HOUR for k in range(7)],
        None,
    )
    with pytest.raises(bundle_predict.InputError, match="'x' lacks data"):
        resampler.windows(references)


def test_times_read_and_written_exactly():
    assert bundle_predict.parse_time("2024-01-05T13:00:00Z") == np.datetime64("2024-01-05T13:00", "ns").view(np.int64)
    assert bundle_predict.parse_time("2024-01-05T14:00:00+01:00") == bundle_predict.parse_time("2024-01-05T13:00")
    assert bundle_predict.format_time(bundle_predict.parse_time("1999-12-31T23:59:59.25Z")) == "1999-12-31T23:59:59.25Z"
