"""Conformal intervals reach their nominal coverage on series with known noise."""

from __future__ import annotations

import numpy as np
import pytest

from tsforge.forecasting.intervals import ConformalIntervals
from tsforge.forecasting.windowing import Feature, FeatureSpec, Series, WindowSpec, build_windows


def test_half_widths_and_coverage_match_gaussian_noise_per_step():
    rng = np.random.default_rng(0)
    sigma = np.array([1.0, 2.0, 4.0])[None, :, None]  # the error grows with the step
    mean = rng.normal(0, 10, (20_500, 3, 1))
    actual = mean + rng.normal(0, 1, mean.shape) * sigma
    calibration, test = slice(0, 500), slice(500, None)

    intervals = ConformalIntervals.calibrate(mean[calibration], actual[calibration])

    assert intervals.levels == (0.8, 0.95) and intervals.calibration_count == 500
    z = np.array([1.2816, 1.96])[:, None, None]
    np.testing.assert_allclose(intervals.half_widths, z * sigma[0][None], rtol=0.15)
    lower, upper = intervals.bounds(mean[test])
    inside = (lower <= actual[test][:, None]) & (actual[test][:, None] <= upper)
    coverage = inside.mean(axis=0)[:, :, 0]  # (levels, steps)
    np.testing.assert_allclose(coverage, [[0.8] * 3, [0.95] * 3], atol=0.03)


def test_a_level_the_validation_split_is_too_small_for_is_left_out():
    predicted = np.zeros((10, 2, 1))
    intervals = ConformalIntervals.calibrate(predicted, predicted + 1.0)
    assert intervals.levels == (0.8,)  # 0.95 needs 19 windows
    assert intervals.half_widths.shape == (1, 2, 1)
    empty = ConformalIntervals.calibrate(predicted[:0], predicted[:0])
    assert empty.levels == () and empty.half_widths.shape == (0, 2, 1)
    with pytest.raises(ValueError):
        ConformalIntervals.calibrate(predicted, predicted, levels=(1.5,))
    restored = ConformalIntervals.from_flat((0.8,), intervals.half_widths.ravel().tolist(), 2, 1)
    np.testing.assert_array_equal(restored.half_widths, intervals.half_widths)


def test_a_fitted_model_on_an_autoregressive_series_reaches_nominal_coverage_on_test():
    # y_t = 0.8 y_(t-1) + e_t, e ~ N(0, 1): the best forecast k steps ahead is
    # 0.8^k y_t, its error variance sum_(i<k) 0.64^i. Least squares on the windows, then
    # intervals from a validation split, checked on a later test split.
    rng = np.random.default_rng(1)
    count = 12_000
    noise = rng.normal(0, 1, count)
    values = np.zeros(count)
    for t in range(1, count):
        values[t] = 0.8 * values[t - 1] + noise[t]
    times = np.datetime64("2024-01-01T00:00", "ns") + np.arange(count) * np.timedelta64(3600, "s")
    series = Series(times, values)
    windows = build_windows(
        [Feature(FeatureSpec("y", -3, 0), series)], [Feature(FeatureSpec("y", 0, 4), series)], WindowSpec(3, 4, 60)
    )
    X, y = windows.X.reshape(len(windows.X), -1).astype(np.float64), windows.y.astype(np.float64)
    train, validation, test = slice(0, 6000), slice(6000, 7000), slice(7000, None)
    design = np.column_stack([X, np.ones(len(X))])
    coefficients, *_ = np.linalg.lstsq(design[train], y[train].reshape(6000, -1), rcond=None)
    predicted = (design @ coefficients).reshape(y.shape)

    intervals = ConformalIntervals.calibrate(predicted[validation], y[validation])

    expected_sigma = np.sqrt(np.cumsum(0.64 ** np.arange(4)))
    np.testing.assert_allclose(intervals.half_widths[1, :, 0], 1.96 * expected_sigma, rtol=0.12)
    lower, upper = intervals.bounds(predicted[test])
    inside = (lower <= y[test][:, None]) & (y[test][:, None] <= upper)
    np.testing.assert_allclose(inside.mean(axis=(0, 2, 3)), [0.8, 0.95], atol=0.025)
