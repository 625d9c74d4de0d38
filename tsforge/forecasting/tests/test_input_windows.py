"""input_windows: the input side of build_windows at reference times the caller picks."""

from __future__ import annotations

import numpy as np
import pytest

from tsforge.forecasting.calendar import CalendarSpec
from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.windowing import (
    Feature,
    FeatureSpec,
    Series,
    UncoveredWindow,
    WindowSpec,
    build_windows,
    future_windows,
    input_windows,
    lag_spec,
)

START = np.datetime64("2024-03-01T00:00", "ns")
MINUTE = np.timedelta64(60_000_000_000, "ns")


def _series(count: int, every_minutes: int, seed: int, drop: slice | None = None) -> Series:
    times = START + np.arange(count) * every_minutes * MINUTE
    values = np.random.default_rng(seed).normal(50, 10, count)
    if drop is not None:
        keep = np.ones(count, dtype=bool)
        keep[drop] = False
        times, values = times[keep], values[keep]
    return Series(times, values)


@pytest.mark.parametrize("method", list(ResamplingMethod))
def test_matches_build_windows_at_any_subset_order_and_repeats(method):
    inputs = [
        Feature(FeatureSpec("a", -6, 0, method), _series(2000, 15, 1, drop=slice(700, 760))),
        Feature(FeatureSpec("b", -3, 0, ResamplingMethod.LINEAR), _series(600, 60, 2)),
    ]
    outputs = [Feature(FeatureSpec("y", 0, 2), _series(2000, 15, 3))]
    window = WindowSpec(input_steps=6, output_steps=2, step_minutes=30)
    calendar = CalendarSpec(day=True, week=True)
    built = build_windows(inputs, outputs, window, calendar=calendar)
    rng = np.random.default_rng(4)
    picked = rng.choice(len(built.times), 300, replace=False)
    picked = np.concatenate([picked, picked[:5]])  # repeats
    rng.shuffle(picked)
    references = built.times[picked].astype(np.int64)

    X = input_windows(inputs, window, references, calendar=calendar)

    assert X.dtype == np.float32 and X.shape == (len(picked), 6, built.X.shape[2])
    np.testing.assert_array_equal(X, built.X[picked])


@pytest.mark.parametrize("method", list(ResamplingMethod))
def test_future_windows_match_build_windows_at_any_subset(method):
    inputs = [Feature(FeatureSpec("a", -6, 0), _series(2000, 15, 1))]
    load = _series(2000, 15, 3, drop=slice(900, 950))
    outputs = [Feature(FeatureSpec("y", 0, 2, method), load)]
    lags = [
        Feature(lag_spec("y.lag_2h", FeatureSpec("y", 0, 2, method), outputs[0].spec, 2.0), load),
        Feature(lag_spec("a.lag_24h", inputs[0].spec, outputs[0].spec, 24.0), inputs[0].series),
    ]
    window = WindowSpec(input_steps=6, output_steps=4, step_minutes=30)
    future_calendar = CalendarSpec(day=True, holiday=True, holiday_country="DE")
    built = build_windows(inputs, outputs, window, lags=lags, future_calendar=future_calendar)
    picked = np.random.default_rng(5).choice(len(built.times), 200, replace=False)
    references = built.times[picked].astype(np.int64)

    F = future_windows(lags, outputs[0].spec, window, references, future_calendar=future_calendar)

    assert F.shape == (200, 4, 2 + 3) and built.future_names[-1] == "future.calendar.holiday"
    np.testing.assert_array_equal(F, built.future[picked])


def test_reference_times_off_the_grid_and_far_apart():
    inputs = [Feature(FeatureSpec("a", -2, 0), _series(5000, 10, 5))]
    window = WindowSpec(input_steps=4, output_steps=1, step_minutes=60)
    references = np.array(
        [START + 7 * MINUTE + 300 * MINUTE, START + 40_000 * MINUTE, START + 300 * MINUTE], dtype="datetime64[ns]"
    ).astype(np.int64)
    X = input_windows(inputs, window, references)
    one_by_one = np.concatenate([input_windows(inputs, window, references[i : i + 1]) for i in range(3)])
    np.testing.assert_array_equal(X, one_by_one)
    # Linear data: the last point of each window is the value at the reference time.
    a = inputs[0].series
    expected = np.interp(references, a.times.astype(np.int64), a.values)
    np.testing.assert_allclose(X[:, -1, 0], expected, rtol=1e-6)


def test_a_window_beyond_the_data_names_the_feature_and_the_range():
    inputs = [Feature(FeatureSpec("temperature", -6, 0), _series(48, 60, 6))]
    window = WindowSpec(input_steps=6, output_steps=1, step_minutes=60)
    too_late = (START + 100 * 60 * MINUTE).astype(np.int64)
    with pytest.raises(UncoveredWindow) as raised:
        input_windows(inputs, window, np.array([too_late]))
    error = raised.value
    assert error.feature == "temperature" and error.reference == too_late
    assert "temperature" in str(error) and "from 2024-03-04T23:00:00Z to 2024-03-05T04:00:00Z" in str(error)


def test_a_gap_inside_the_window_is_not_bridged():
    inputs = [Feature(FeatureSpec("a", -3, 0), _series(100, 60, 7, drop=slice(40, 45)))]
    window = WindowSpec(input_steps=3, output_steps=1, step_minutes=60)
    inside_gap = (START + 43 * 60 * MINUTE).astype(np.int64)
    with pytest.raises(UncoveredWindow):
        input_windows(inputs, window, np.array([inside_gap]))
