"""Interval metrics on hand-made cases, every undefined case, and calibration on noise."""

from __future__ import annotations

import numpy as np
import pytest

from services.evaluation.intervals import IntervalMetric, score_intervals
from services.evaluation.metrics import MetricValue

COVERAGE, WIDTH, PINBALL, WINKLER = IntervalMetric


def bounds(values) -> np.ndarray:
    """(samples, 1 level, 1 step, 1 feature) from a list of values."""
    return np.array(values, dtype=np.float64).reshape(-1, 1, 1, 1)


def test_coverage_width_pinball_and_winkler_by_hand():
    actual = np.array([0.0, 5.0, 12.0]).reshape(-1, 1, 1)
    lower, upper = bounds([1.0, 1.0, 1.0]), bounds([9.0, 9.0, 9.0])
    cell = score_intervals(actual, lower, upper, (0.8,)).overall[0][0]
    # β = 0.2: τl = 0.1, τu = 0.9. y = 0 lies 1 below, y = 5 inside, y = 12 lies 3 above.
    assert cell[COVERAGE].value == pytest.approx(1 / 3)
    assert cell[WIDTH].value == pytest.approx(8.0)
    pinball = [
        (0.9 * 1 + 0.1 * 9) / 2,  # ρ_0.1(0, 1) = 0.9 · 1; ρ_0.9(0, 9) = 0.1 · 9
        (0.1 * 4 + 0.1 * 4) / 2,
        (0.1 * 11 + 0.9 * 3) / 2,
    ]
    assert cell[PINBALL].value == pytest.approx(np.mean(pinball))
    winkler = [8 + 10 * 1, 8, 8 + 10 * 3]  # 2/β = 10
    assert cell[WINKLER].value == pytest.approx(np.mean(winkler))
    assert cell[WINKLER].value == pytest.approx(4 / 0.2 * cell[PINBALL].value)
    assert (cell.count, cell.excluded) == (3, 0)


def test_per_step_and_per_level_cells_and_the_bounds_themselves_count_as_covered():
    actual = np.array([[[1.0], [2.0]]])  # one sample, two steps
    lower = np.array([[[[1.0], [0.0]], [[0.0], [-1.0]]]])  # levels 0.5 and 0.9
    upper = np.array([[[[1.5], [1.0]], [[3.0], [5.0]]]])
    scores = score_intervals(actual, lower, upper, (0.5, 0.9))
    assert scores.levels == (0.5, 0.9)
    assert [scores.per_step[0][k][0][COVERAGE].value for k in range(2)] == [1.0, 0.0]
    assert scores.overall[0][0][COVERAGE].value == 0.5
    assert scores.overall[1][0][COVERAGE].value == 1.0
    assert scores.per_step[1][1][0][WIDTH].value == 6.0


def test_undefined_cells_say_why_and_never_hold_nan():
    actual = np.array([1.0, np.nan, 3.0]).reshape(-1, 1, 1)
    lower, upper = bounds([0.0, 0.0, np.inf]), bounds([2.0, 2.0, 4.0])
    cell = score_intervals(actual, lower, upper, (0.9,)).overall[0][0]
    assert (cell.count, cell.excluded) == (1, 2) and cell[COVERAGE].value == 1.0
    nothing = score_intervals(actual[:0], lower[:0], upper[:0], (0.9,)).overall[0][0]
    assert nothing[WIDTH] == MetricValue.undefined("empty split")
    left_out = score_intervals(actual[1:2], lower[1:2], upper[1:2], (0.9,)).overall[0][0]
    assert left_out[PINBALL].undefined_reason == "no pair with finite actual and bounds (1 excluded)"
    crossed = score_intervals(actual, bounds([0.0, 0.0, 5.0]), upper, (0.9,)).overall[0][0]
    assert crossed[COVERAGE].undefined_reason == "the lower bound is above the upper bound in 1 of 2 pairs"
    huge = score_intervals(np.full((1, 1, 1), -1e308), bounds([1e308]), bounds([1e308]), (0.9,)).overall[0][0]
    assert huge[WINKLER].undefined_reason == "not finite (overflow)" and huge[COVERAGE].value == 0.0
    masked = score_intervals(actual, lower, upper, (0.9,), valid=np.zeros(actual.shape, dtype=bool)).overall[0][0]
    assert masked.count == 0 and masked.excluded == 3


def test_shapes_and_levels_are_checked():
    actual = np.zeros((2, 3, 1))
    good = np.zeros((2, 1, 3, 1))
    with pytest.raises(ValueError, match="do not match"):
        score_intervals(actual, good[:, :, :2], good, (0.8,))
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        score_intervals(actual, good, good, (80.0,))


def test_intervals_from_the_known_noise_reach_their_nominal_coverage():
    generator = np.random.default_rng(7)
    forecast = generator.normal(0, 10, (20_000, 4, 2))
    actual = forecast + generator.normal(0, 2.0, forecast.shape)
    z = np.array([1.2815515655446004, 1.959963984540054])  # the 0.9 and 0.975 normal quantiles
    half = (z * 2.0)[None, :, None, None]
    scores = score_intervals(actual, forecast[:, None] - half, forecast[:, None] + half, (0.8, 0.95))
    for index, level in enumerate((0.8, 0.95)):
        for f in range(2):
            assert scores.overall[index][f][COVERAGE].value == pytest.approx(level, abs=0.01)
            for k in range(4):
                assert scores.per_step[index][k][f][COVERAGE].value == pytest.approx(level, abs=0.02)
    # The true quantiles minimise the pinball loss: wider or narrower bounds score worse.
    best = scores.overall[0][0][PINBALL].value
    for factor in (0.7, 1.4):
        other = score_intervals(
            actual, forecast[:, None] - factor * half, forecast[:, None] + factor * half, (0.8, 0.95)
        ).overall[0][0][PINBALL]
        assert other.value > best
