"""The output history grid holds exactly the values the output windows hold."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.target_history import grid_problem, target_history
from tsforge.forecasting.windowing import Feature, FeatureSpec, Series, WindowSpec, build_windows

START = np.datetime64("2024-03-01T00:00", "ns")
MINUTE = np.timedelta64(60_000_000_000, "ns")


def _series(count: int, every_minutes: int, seed: int) -> Series:
    rng = np.random.default_rng(seed)
    times = START + 7 * MINUTE + np.arange(count) * every_minutes * MINUTE
    keep = np.ones(count, dtype=bool)
    keep[300:340] = False  # a gap
    return Series(times[keep], rng.normal(50, 10, count)[keep])


@pytest.mark.parametrize("method", list(ResamplingMethod))
@pytest.mark.parametrize("start_hours", [0.0, 1.0])
def test_grid_values_are_the_output_window_points(method, start_hours):
    load = _series(3000, 10, 1)
    inputs = [Feature(FeatureSpec("x", -2, 0), _series(3000, 10, 2))]
    outputs = [Feature(FeatureSpec("load", start_hours, start_hours + 2, method), load)]
    window = WindowSpec(4, 4, 60, offset_minutes=30)  # output steps of 30 minutes, reference times hourly
    gap = timedelta(minutes=15)
    built = build_windows(inputs, outputs, window, gap)

    history = target_history(outputs, window, gap)

    assert history.step == 30 * 60 * 10**9 and history.lead == round(start_hours * 2)
    references = built.times.astype(np.int64)
    assert ((references - history.start) % history.step == 0).all()
    rows = (references - history.start) // history.step
    for k in range(4):
        np.testing.assert_allclose(history.values[rows + history.lead + k + 1, 0], built.y[:, k, 0], rtol=1e-6)
    # Reading back a window: the values at and before a reference time, oldest first.
    window_values = history.window(int(references[10]), 5)[:, 0]
    np.testing.assert_array_equal(window_values, history.values[rows[10] - 4 : rows[10] + 1, 0])
    assert np.isnan(history.values[:, 0]).any()  # the gap
    assert np.isnan(history.window(history.start, 3)[:2]).all()  # before the grid


def test_outputs_without_a_common_grid_are_explained():
    window = WindowSpec(4, 4, 60)
    assert grid_problem([FeatureSpec("a", 0, 4), FeatureSpec("b", 0, 2)], window) == (
        "the output features have different step widths"
    )
    assert "step_minutes" in grid_problem([FeatureSpec("a", 0, 8)], window)  # 2-hour steps, hourly references
    assert "starts at 0.5 h" in grid_problem([FeatureSpec("a", 0.5, 4.5)], window)
    assert grid_problem([FeatureSpec("a", 1, 5)], window) is None
