"""Past output values (history) against the loop reference, on the lattice and off it."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsforge.forecasting import history
from tsforge.forecasting.history import output_history
from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.tests import reference
from tsforge.forecasting.tests.test_windowing import DAY, raw_series
from tsforge.forecasting.windowing import Feature, FeatureSpec, Series
from tsforge.training.v1 import training_resources_pb2 as tr

NS_PER_SECOND = 10**9


def _dataset(output_steps: int, step_minutes: int, offset_minutes: int, tolerance: timedelta | None) -> tr.Dataset:
    dataset = tr.Dataset()
    dataset.spec.window.input_steps = 1
    dataset.spec.window.output_steps = output_steps
    dataset.spec.window.step_minutes = step_minutes
    dataset.spec.window.offset_minutes = offset_minutes
    if tolerance is not None:
        dataset.gap_tolerance.FromTimedelta(tolerance)
    return dataset


def _expected(times, values, method: str, width_ns: int, references_ns, history_steps: int, tolerance) -> np.ndarray:
    """The literal rule: h steps back is a one-point window ending at r − h·w."""
    points = reference.raw_points(times, values)
    expected = np.full((len(references_ns), history_steps), np.nan)
    if not points:
        return expected
    if tolerance is None:
        tolerance_ns = reference.median_tolerance(points)
    else:
        tolerance_ns = tolerance // timedelta(microseconds=1) * 1000
    for i, r in enumerate(references_ns):
        for h in range(history_steps):
            found = reference.resample_one(points, method, [r - (h + 1) * width_ns, r - h * width_ns], tolerance_ns)
            if found is not None:
                expected[i, h] = np.float32(found[0])
    return expected


@st.composite
def scenario(draw):
    times, values = draw(raw_series())
    method = draw(st.sampled_from(list(ResamplingMethod)))
    output_steps = draw(st.integers(1, 4))
    width_seconds = draw(st.sampled_from([60, 120, 300, 420, 900, 1800]))
    start_hours = draw(st.sampled_from([-1.0, 0.0, 0.5]))
    spec = FeatureSpec("load", start_hours, start_hours + output_steps * width_seconds / 3600, method)
    step = draw(st.sampled_from([1, 5, 7, 15, 30]))
    offset = draw(st.integers(0, step - 1))
    tolerance = draw(st.one_of(st.none(), st.sampled_from([timedelta(minutes=m) for m in (1, 6, 16, 45)])))
    # Reference times on the window's grid around the data, some of them, any order.
    first = (DAY.astype("datetime64[m]").astype(np.int64) // step) * step + offset
    grid = (first + step * np.arange(-3, 40)) * 60
    chosen = draw(st.lists(st.sampled_from(list(grid)), min_size=1, max_size=12))
    return (
        Feature(spec, Series(times, values)),
        width_seconds,
        step,
        offset,
        tolerance,
        np.array(chosen),
        draw(st.integers(1, 12)),
    )


@given(scenario(), st.booleans())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_history_matches_the_loop_reference(case, tiny_lattice):
    feature, width_seconds, step, offset, tolerance, seconds, history_steps = case
    output_steps = round((feature.spec.end_hours - feature.spec.start_hours) * 3600 / width_seconds)
    dataset = _dataset(output_steps, step, offset, tolerance)
    # A tiny lattice limit sends every case down the step-by-step path: both must agree.
    with mock.patch.object(history, "_MAX_LATTICE", 1 if tiny_lattice else history._MAX_LATTICE):
        found = output_history([feature], dataset, seconds, history_steps)[..., 0]
    expected = _expected(
        feature.series.times,
        feature.series.values,
        feature.spec.method.value,
        width_seconds * NS_PER_SECOND,
        seconds * NS_PER_SECOND,
        history_steps,
        tolerance,
    )
    np.testing.assert_array_equal(np.isnan(found), np.isnan(expected))
    np.testing.assert_allclose(found[~np.isnan(found)], expected[~np.isnan(expected)], rtol=1e-6, atol=1e-4)


def test_a_step_width_that_is_not_whole_nanoseconds_takes_the_step_by_step_path():
    # 1 h over 7 steps: 514285714285.71 ns per step.
    times = DAY + np.arange(0, 600, 5).astype("timedelta64[m]")
    feature = Feature(FeatureSpec("load", 0, 1), Series(times, np.arange(120, dtype=np.float64)))
    seconds = (DAY + np.timedelta64(300, "m")).astype("datetime64[s]").astype(np.int64)[None]
    found = output_history([feature], _dataset(7, 5, 0, None), seconds, 3)[0, :, 0]
    width_minutes = 60 / 7
    np.testing.assert_allclose(found, [60 - h * width_minutes / 5 for h in range(3)], rtol=1e-6)


def test_no_numeric_values_or_no_rows_give_nan_or_nothing():
    times = DAY + np.arange(10).astype("timedelta64[h]")
    empty = Feature(FeatureSpec("load", 0, 1), Series(times, np.full(10, np.nan)))
    seconds = (DAY + np.timedelta64(5, "h")).astype("datetime64[s]").astype(np.int64)[None]
    assert np.isnan(output_history([empty], _dataset(1, 60, 0, None), seconds, 4)).all()
    assert output_history([empty], _dataset(1, 60, 0, None), seconds[:0], 4).shape == (0, 4, 1)
