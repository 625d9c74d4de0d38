"""Windowing against the loop reference (property tests) and small hand-computed cases."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsforge.forecasting.calendar import CalendarSpec
from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.tests import reference
from tsforge.forecasting.windowing import (
    Feature,
    FeatureSpec,
    Series,
    WindowSpec,
    build_windows,
    lag_spec,
    reference_times,
)

LINEAR, MEAN, NEAREST = ResamplingMethod.LINEAR, ResamplingMethod.MEAN, ResamplingMethod.NEAREST
DAY = np.datetime64("2024-03-01T00:00", "ns")


def minutes(*offsets: float) -> np.ndarray:
    return DAY + (np.asarray(offsets, dtype=np.float64) * 60e9).astype("timedelta64[ns]")


def feature(name, times, values, start, end, method=LINEAR) -> Feature:
    return Feature(FeatureSpec(name, start, end, method), Series(np.asarray(times), np.asarray(values, dtype=float)))


# ---------------------------------------------------------------------------
# Property tests against the loop reference.
# ---------------------------------------------------------------------------


@st.composite
def raw_series(draw):
    # Now and then a tiny series (edge cases); mostly long ones, so that files overlap.
    count = draw(st.integers(1, 4)) if draw(st.sampled_from([False] * 9 + [True])) else draw(st.integers(25, 80))
    # Irregular steps in seconds, mostly short, a few long enough to be gaps.
    short = [30, 60, 120, 180, 240, 300]
    steps = draw(st.lists(st.sampled_from(short * 8 + [600, 1800, 3600]), min_size=count - 1, max_size=count - 1))
    begin = draw(st.integers(0, 900))
    seconds = np.cumsum([begin, *steps]).astype(np.int64)
    values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), min_size=count, max_size=count))
    values = np.array(values, dtype=np.float64)
    holes = draw(st.lists(st.integers(0, count - 1), max_size=2))
    if len(holes) < count:
        values[holes] = np.nan  # missing values are missing points
    return DAY + seconds.astype("timedelta64[s]"), values


@st.composite
def feature_spec(draw, name):
    method = draw(st.sampled_from([LINEAR, MEAN, NEAREST]))
    start = draw(st.sampled_from([-1.5, -1.0, -0.5, -0.25, -0.1, 0.0, 0.25]))
    width = draw(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0, 1.3]))
    return FeatureSpec(name, start, start + width, method)


@st.composite
def scenario(draw):
    inputs = [
        Feature(draw(feature_spec(f"in{i}")), Series(*draw(raw_series()))) for i in range(draw(st.integers(1, 2)))
    ]
    outputs = [
        Feature(draw(feature_spec(f"out{i}")), Series(*draw(raw_series()))) for i in range(draw(st.integers(1, 2)))
    ]
    step = draw(st.sampled_from([1, 5, 7, 15, 30, 60]))
    window = WindowSpec(draw(st.integers(1, 5)), draw(st.integers(1, 4)), step, draw(st.integers(0, step - 1)))
    tolerance = draw(st.one_of(st.none(), st.sampled_from([timedelta(minutes=m) for m in (1, 6, 10, 16, 30, 45, 90)])))
    block_size = draw(st.sampled_from([None, 1, 2, 3, 7]))
    return inputs, outputs, window, tolerance, block_size


def as_reference(features):
    return [
        (
            reference.raw_points(f.series.times, f.series.values),
            f.spec.method.value,
            f.spec.start_hours,
            f.spec.end_hours,
        )
        for f in features
    ]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_matches_the_loop_reference(case):
    inputs, outputs, window, tolerance, block_size = case
    tolerance_ns = None if tolerance is None else tolerance // timedelta(microseconds=1) * 1000
    try:
        X, y, kept, dropped = reference.build(
            as_reference(inputs),
            as_reference(outputs),
            window.input_steps,
            window.output_steps,
            window.step_minutes,
            window.offset_minutes,
            tolerance_ns,
        )
    except ValueError:
        with pytest.raises(ValueError):
            build_windows(inputs, outputs, window, tolerance, block_size=block_size)
        return
    windows = build_windows(inputs, outputs, window, tolerance, block_size=block_size)
    assert windows.dropped == dropped
    assert windows.times.dtype == np.dtype("datetime64[ns]")
    assert windows.times.astype(np.int64).tolist() == kept
    assert windows.X.shape == (len(kept), window.input_steps, len(inputs))
    assert windows.y.shape == (len(kept), window.output_steps, len(outputs))
    assert windows.X.dtype == windows.y.dtype == np.float32
    if kept:
        np.testing.assert_allclose(windows.X, np.array(X, dtype=np.float32), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(windows.y, np.array(y, dtype=np.float32), rtol=1e-5, atol=1e-3)


# ---------------------------------------------------------------------------
# Hand-computed cases.
# ---------------------------------------------------------------------------

# Raw points every 10 minutes from 00:00 to 01:00 with values 0, 10, ..., 60.
TEN_MINUTES = minutes(0, 10, 20, 30, 40, 50, 60)
RISING = np.arange(7) * 10.0


def test_linear_interpolates_between_neighbours():
    # Reference 00:30, inputs -0.25..0 h at 3 points: 00:20, 00:25, 00:30.
    inputs = [feature("a", TEN_MINUTES, RISING, -0.25, 0.0)]
    outputs = [feature("b", TEN_MINUTES, RISING, 0.0, 0.5)]
    windows = build_windows(inputs, outputs, WindowSpec(3, 1, 30), timedelta(minutes=10))
    assert windows.times.tolist() == [minutes(30)[0].astype(int)] or windows.times[0] == minutes(30)[0]
    assert len(windows.times) == 1 and windows.dropped == 2  # 00:00 and 01:00 lack data
    np.testing.assert_allclose(windows.X[0, :, 0], [20, 25, 30])
    np.testing.assert_allclose(windows.y[0, :, 0], [60])


def test_mean_averages_each_interval_start_excluded_end_included():
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    # Reference 01:00, horizon -1..0 h at 2 points: (00:00, 00:30] and (00:30, 01:00].
    inputs = [feature("a", TEN_MINUTES, values, -1.0, 0.0, MEAN)]
    outputs = [feature("b", TEN_MINUTES, values, -0.5, 0.0, LINEAR)]
    windows = build_windows(inputs, outputs, WindowSpec(2, 1, 60), timedelta(minutes=10))
    assert windows.times[0] == minutes(60)[0] and windows.dropped == 1
    np.testing.assert_allclose(windows.X[0, :, 0], [(2 + 4 + 8) / 3, (16 + 32 + 64) / 3])


def test_mean_interval_without_a_raw_point_drops_the_sample():
    # Points at 00:00, 00:10, 00:15, 00:30; intervals of 5 minutes, tolerance 15 min:
    # (00:15, 00:20] and (00:20, 00:25] are empty although no gap exceeds the tolerance.
    times = minutes(0, 10, 15, 30)
    inputs = [feature("a", times, [1, 2, 3, 4], -5 / 60, 0.0, MEAN)]
    outputs = [feature("b", times, [1, 2, 3, 4], -5 / 60, 0.0, LINEAR)]
    windows = build_windows(inputs, outputs, WindowSpec(1, 1, 5), timedelta(minutes=15))
    # References 00:00 (not covered), 00:05 (empty), 00:10, 00:15, 00:20 and 00:25 (empty), 00:30.
    assert windows.times.tolist() == minutes(10, 15, 30).tolist()
    assert windows.dropped == 4
    np.testing.assert_allclose(windows.X[:, 0, 0], [2, 3, 4])


def test_nearest_takes_the_closest_point_and_the_earlier_one_on_ties():
    times = minutes(0, 10, 20, 30)
    values = [0.0, 1.0, 2.0, 3.0]
    # Reference 00:30, 6 points over -0.5..0 h: 00:05 (tie -> 00:00), 00:10, 00:15 (tie
    # -> 00:10), 00:20, 00:25 (tie -> 00:20), 00:30.
    inputs = [feature("a", times, values, -0.5, 0.0, NEAREST)]
    outputs = [feature("b", times, values, -0.5, 0.0, NEAREST)]
    windows = build_windows(inputs, outputs, WindowSpec(6, 3, 30), timedelta(minutes=10))
    np.testing.assert_array_equal(windows.X[0, :, 0], [0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(windows.y[0, :, 0], [1, 2, 3])  # 00:10, 00:20, 00:30
    # Off the raw grid: reference 00:00, point at +7 minutes is nearer 00:10 than 00:00.
    inputs = [feature("a", minutes(0, 10, 20), [5, 6, 7], 0.0, 7 / 60, NEAREST)]
    windows = build_windows(inputs, inputs, WindowSpec(1, 1, 20), timedelta(minutes=10))
    assert windows.times.tolist() == minutes(0).tolist() and windows.dropped == 1
    np.testing.assert_array_equal(windows.X[0, :, 0], [6])


def test_a_gap_drops_exactly_the_samples_whose_window_touches_it():
    # 10-minute data from 00:00 to 02:00 with 00:50 and 01:00 missing: a 30-minute gap
    # (00:40, 01:10). Windows of -0.5..0 h at 3 points, references every 10 minutes.
    offsets = [m for m in range(0, 121, 10) if m not in (50, 60)]
    series = (minutes(*offsets), np.array(offsets, dtype=float))
    inputs = [feature("a", *series, -0.5, 0.0)]
    outputs = [feature("b", *series, 0.0, 1 / 6)]
    windows = build_windows(inputs, outputs, WindowSpec(3, 1, 10), timedelta(minutes=20))
    # Reference r (00:00..02:00) reads [r - 20, r] for inputs and r + 10 for outputs. Kept:
    # the input span starts at or after 00:00, the output point is at or before 02:00,
    # and neither touches the open gap (00:40, 01:10).
    expected = [
        r for r in range(0, 121, 10) if r >= 20 and r <= 110 and not (r - 20 < 70 and r > 40) and not 40 < r + 10 < 70
    ]
    assert expected == [20, 30, 90, 100, 110]
    assert [int(t) for t in (windows.times - DAY) // np.timedelta64(1, "m")] == expected
    assert windows.dropped == 13 - 5
    np.testing.assert_allclose(
        windows.X[:, :, 0], [[0, 10, 20], [10, 20, 30], [70, 80, 90], [80, 90, 100], [90, 100, 110]]
    )
    # The same data with a tolerance of 30 minutes bridges the gap by interpolation.
    bridged = build_windows(inputs, outputs, WindowSpec(3, 1, 10), timedelta(minutes=30))
    assert bridged.dropped == 3 and len(bridged.times) == 10
    np.testing.assert_allclose(bridged.X[4, :, 0], [40, 50, 60])


def test_missing_values_are_gaps_not_fills():
    values = RISING.copy()
    values[3] = np.nan  # 00:30
    inputs = [feature("a", TEN_MINUTES, values, -1 / 6, 0.0)]
    windows = build_windows(inputs, inputs, WindowSpec(1, 1, 10), timedelta(minutes=10))
    # The missing 00:30 leaves a gap (00:20, 00:40) that only the point at 00:30 falls into.
    assert [int(t) for t in (windows.times - DAY) // np.timedelta64(1, "m")] == [0, 10, 20, 40, 50, 60]
    assert windows.dropped == 1


def test_default_tolerance_is_one_and_a_half_median_steps():
    offsets = [0, 10, 20, 30, 45, 60, 90]  # median step 10 min: 15 bridges, 30 does not
    inputs = [feature("a", minutes(*offsets), np.array(offsets, dtype=float), -0.25, 0.0)]
    windows = build_windows(inputs, inputs, WindowSpec(1, 1, 5))
    kept = [int(t) for t in (windows.times - DAY) // np.timedelta64(1, "m")]
    assert 45 in kept and 50 in kept and 75 not in kept


def test_offset_aligns_reference_times():
    times = minutes(*range(0, 181, 5))
    series = Series(times, np.arange(len(times), dtype=float))
    specs = [Feature(FeatureSpec("a", -1.0, 0.0), series)]
    windows = build_windows(specs, specs, WindowSpec(2, 1, 60, 20))
    # 20 minutes past each hour; at 00:20 the first point (-30 minutes) precedes the data.
    assert [int(t) for t in (windows.times - DAY) // np.timedelta64(1, "m")] == [80, 140]
    assert windows.dropped == 1
    for t in windows.times.astype(np.int64):
        assert (t // 60_000_000_000) % 60 == 20


def test_reference_times_run_from_latest_start_to_earliest_end_aligned():
    early = Series(minutes(0, 100), np.zeros(2))
    late = Series(minutes(7, 200), np.zeros(2))
    times = reference_times([early, late], WindowSpec(1, 1, 15, 5))
    assert [int(t) for t in (times.view("datetime64[ns]") - DAY) // np.timedelta64(1, "m")] == [20, 35, 50, 65, 80, 95]


def test_files_without_overlap_raise_a_clear_error():
    inputs = [feature("a", minutes(0, 10), [1, 2], -1, 0)]
    outputs = [feature("b", minutes(20, 30), [1, 2], 0, 1)]
    with pytest.raises(ValueError, match="do not overlap"):
        build_windows(inputs, outputs, WindowSpec(1, 1, 10))
    outputs = [feature("b", minutes(3, 30), [1, 2], 0, 1)]
    with pytest.raises(ValueError, match="no reference time"):
        build_windows(inputs, outputs, WindowSpec(1, 1, 60, 30))


@pytest.mark.parametrize(
    ("inputs", "window", "message"),
    [
        ([], WindowSpec(1, 1, 10), "at least one input"),
        ([feature("a", minutes(0, 10), [1, 2], 0, 0)], WindowSpec(1, 1, 10), "start_hours"),
        ([feature("a", minutes(10, 0), [1, 2], -1, 0)], WindowSpec(1, 1, 10), "strictly increasing"),
        ([feature("a", minutes(0, 10), [np.nan, np.nan], -1, 0)], WindowSpec(1, 1, 10), "no numeric"),
        ([feature("a", minutes(0, 10), [1, 2], -1, 0)] * 2, WindowSpec(1, 1, 10), "unique"),
        ([feature("a", minutes(0, 10), [1, 2], -1, 0)], WindowSpec(0, 1, 10), "input_steps"),
        ([feature("a", minutes(0, 10), [1, 2], -1, 0)], WindowSpec(1, 1, 10, 10), "offset_minutes"),
    ],
)
def test_impossible_input_raises(inputs, window, message):
    outputs = [feature("b", minutes(0, 10), [1, 2], 0, 1)]
    with pytest.raises(ValueError, match=message):
        build_windows(inputs, outputs, window)


def test_calendar_columns_follow_the_inputs_at_each_input_point():
    times = minutes(*range(0, 121, 30))
    inputs = [feature("a", times, np.arange(5.0), -1.0, 0.0)]
    windows = build_windows(inputs, inputs, WindowSpec(2, 1, 60), calendar=CalendarSpec(day=True))
    assert windows.input_names == ("a", "calendar.day_sin", "calendar.day_cos")
    assert windows.X.shape == (2, 2, 3)
    # Reference 01:00: points 00:30 and 01:00 UTC.
    angles = 2 * np.pi * np.array([0.5, 1.0]) / 24
    np.testing.assert_allclose(windows.X[0, :, 1], np.sin(angles), atol=1e-6)
    np.testing.assert_allclose(windows.X[0, :, 2], np.cos(angles), atol=1e-6)


def test_large_blocks_and_small_blocks_agree():
    generator = np.random.default_rng(3)
    times = DAY + np.cumsum(generator.integers(1, 20, 3_000)).astype("timedelta64[m]")
    values = generator.normal(size=3_000)
    inputs = [
        feature(name, times, values, -2, 0, method) for name, method in (("l", LINEAR), ("m", MEAN), ("n", NEAREST))
    ]
    outputs = [feature("o", times, values, 0, 1)]
    window = WindowSpec(8, 4, 15, 5)
    whole = build_windows(inputs, outputs, window, timedelta(minutes=25))
    blocked = build_windows(inputs, outputs, window, timedelta(minutes=25), block_size=37)
    assert len(whole.times) > 1000 and whole.dropped > 0
    np.testing.assert_array_equal(whole.X, blocked.X)
    np.testing.assert_array_equal(whole.y, blocked.y)
    np.testing.assert_array_equal(whole.times, blocked.times)


# ---------------------------------------------------------------------------
# Lags and the future calendar against the loop reference.
# ---------------------------------------------------------------------------

FUTURE_CALENDARS = [
    None,
    CalendarSpec(day=True),
    CalendarSpec(week=True, holiday=True, holiday_country="AT", time_zone="Europe/Vienna"),
    CalendarSpec(year=True, month=True, time_zone="America/New_York"),
]


@st.composite
def dense_series(draw):
    # Long enough for lags: 60-150 points, steps of 30 s to 5 min, now and then a gap.
    count = draw(st.integers(60, 150))
    steps = draw(
        st.lists(st.sampled_from([30, 60, 120, 180, 300] * 10 + [900]), min_size=count - 1, max_size=count - 1)
    )
    seconds = np.cumsum([draw(st.integers(0, 600)), *steps]).astype(np.int64)
    values = np.array(draw(st.lists(st.floats(-1e3, 1e3, width=32), min_size=count, max_size=count)))
    return DAY + seconds.astype("timedelta64[s]"), values


@st.composite
def lag_scenario(draw):
    inputs = [
        Feature(draw(feature_spec(f"in{i}")), Series(*draw(dense_series()))) for i in range(draw(st.integers(1, 2)))
    ]
    start = draw(st.sampled_from([-0.25, 0.0, 0.1]))
    out_spec = FeatureSpec(
        "out0", start, start + draw(st.sampled_from([0.1, 0.25, 0.5])), draw(st.sampled_from([LINEAR, MEAN, NEAREST]))
    )
    outputs = [Feature(out_spec, Series(*draw(dense_series())))]
    step = draw(st.sampled_from([1, 5, 7, 15]))
    window = WindowSpec(draw(st.integers(1, 4)), draw(st.integers(1, 4)), step, draw(st.integers(0, step - 1)))
    tolerance = draw(st.one_of(st.none(), st.sampled_from([timedelta(minutes=m) for m in (6, 10, 30)])))
    lags = []
    for i in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from([*inputs, *outputs]))
        lag_hours = max(out_spec.end_hours, 0.05) + draw(st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5]))
        method = draw(st.sampled_from([LINEAR, MEAN, NEAREST]))
        spec = lag_spec(f"lag{i}", FeatureSpec(source.spec.name, 0, 1, method), out_spec, lag_hours)
        lags.append((Feature(spec, source.series), lag_hours))
    block_size = draw(st.sampled_from([None, 1, 3]))
    return inputs, outputs, window, tolerance, block_size, lags, draw(st.sampled_from(FUTURE_CALENDARS))


def calendar_columns(spec: CalendarSpec):
    cycles = [c for c in ("year", "month", "week", "day", "holiday") if getattr(spec, c)]
    return cycles, spec.time_zone, spec.holiday_country


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lag_scenario())
def test_lags_and_future_calendar_match_the_loop_reference(case):
    inputs, outputs, window, tolerance, block_size, lags, future_calendar = case
    tolerance_ns = None if tolerance is None else tolerance // timedelta(microseconds=1) * 1000
    lag_features = [feature for feature, _ in lags]
    reference_lags = [
        (reference.raw_points(f.series.times, f.series.values), f.spec.method.value, hours) for f, hours in lags
    ]
    arguments = (
        as_reference(inputs),
        as_reference(outputs),
        window.input_steps,
        window.output_steps,
        window.step_minutes,
        window.offset_minutes,
        tolerance_ns,
        reference_lags,
        None if future_calendar is None else calendar_columns(future_calendar),
    )
    options = dict(lags=lag_features, future_calendar=future_calendar, block_size=block_size)
    try:
        X, y, kept, dropped, *future = reference.build(*arguments)
    except ValueError:
        with pytest.raises(ValueError):
            build_windows(inputs, outputs, window, tolerance, **options)
        return
    windows = build_windows(inputs, outputs, window, tolerance, **options)
    assert windows.dropped == dropped
    assert windows.times.astype(np.int64).tolist() == kept
    width = len(lags) + len((future_calendar or CalendarSpec()).column_names())
    assert windows.future.shape == (len(kept), window.output_steps, width)
    assert windows.future_names == tuple(f.spec.name for f in lag_features) + tuple(
        "future." + name for name in (future_calendar or CalendarSpec()).column_names()
    )
    if kept:
        np.testing.assert_allclose(windows.y, np.array(y, dtype=np.float32), rtol=1e-5, atol=1e-3)
        if width:
            np.testing.assert_allclose(windows.future, np.array(future[0], dtype=np.float32), rtol=1e-5, atol=1e-3)


def test_a_lag_shorter_than_the_horizon_is_refused():
    out = FeatureSpec("load", 0.0, 6.0)
    with pytest.raises(ValueError, match="at least 6 h"):
        lag_spec("load.lag_3h", out, out, 3.0)
    assert lag_spec("load.lag_24h", out, out, 24.0) == FeatureSpec("load.lag_24h", -24.0, -18.0)


def test_a_weekly_lag_at_the_output_steps_by_hand():
    # Hourly values 0, 1, 2, ...; outputs 0..3 h in 3 steps; a lag of 24 h reads the
    # value 24 h before each output step: r + 1 h - 24 h, ...
    hours = np.arange(24 * 4)
    times = DAY + hours * np.timedelta64(3600, "s")
    values = hours.astype(float)
    inputs = [feature("x", times, values, -2.0, 0.0)]
    outputs = [feature("y", times, values, 0.0, 3.0)]
    lag = Feature(lag_spec("y.lag_24h", outputs[0].spec, outputs[0].spec, 24.0), outputs[0].series)
    windows = build_windows(inputs, outputs, WindowSpec(2, 3, 60), lags=[lag], future_calendar=CalendarSpec(day=True))
    first = windows.times[0].astype("datetime64[h]").astype(np.int64) - DAY.astype("datetime64[h]").astype(np.int64)
    assert first == 23  # the first reference time whose lag window starts at hour 0
    np.testing.assert_allclose(windows.future[0, :, 0], [0, 1, 2])
    np.testing.assert_allclose(windows.y[0, :, 0], [24, 25, 26])
    np.testing.assert_allclose(windows.future[0, :, 1], np.sin(2 * np.pi * np.array([0, 1, 2]) / 24), atol=1e-6)
