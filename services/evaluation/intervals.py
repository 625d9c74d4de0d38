"""Prediction intervals against actual values, as tsforge.evaluation.v1.IntervalMetric
defines them.

A model's intervals are two arrays of shape (n_samples, n_levels, output_steps,
n_features), the lower and upper bounds of central intervals of nominal coverage α per
level (the (1 − α)/2 and (1 + α)/2 quantile forecasts). A cell is one feature and level
over the set S of (sample, step) pairs it covers; n = |S|, y the actual, [l, u] the
bounds, β = 1 − α, τl = β/2, τu = 1 − β/2:

- COVERAGE = (1/n) · #{l ≤ y ≤ u}, a fraction 0..1;
- MEAN_WIDTH = (1/n) Σ (u − l);
- PINBALL = (1/n) Σ (ρ_τl(y, l) + ρ_τu(y, u)) / 2, ρ_τ(y, q) = max(τ(y − q), (τ − 1)(y − q));
- WINKLER = (1/n) Σ (u − l) + (2/β)(l − y)·[y < l] + (2/β)(y − u)·[y > u]
  (Gneiting and Raftery's interval score; equal to (4/β) · PINBALL).

A pair where y, l or u is not finite, or that `valid` excludes, is left out of S and
counted as excluded. With n = 0 every metric is undefined ("empty split" when nothing was
excluded); when some pair of S has l > u every metric of the cell is undefined (such
bounds are not an interval); a value that overflows is undefined too. Nothing here
returns NaN; ValueError only for arrays of the wrong shape or levels outside (0, 1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from services.evaluation.metrics import EMPTY_SPLIT, MetricValue


class IntervalMetric(enum.IntEnum):
    """The interval metrics, numbered as tsforge.evaluation.v1.IntervalMetric."""

    COVERAGE = 1
    MEAN_WIDTH = 2
    PINBALL = 3
    WINKLER = 4


@dataclass(frozen=True, slots=True)
class IntervalCell:
    """Every interval metric of one cell, the pairs it covers and the pairs left out."""

    values: dict[IntervalMetric, MetricValue]
    count: int
    excluded: int

    def __getitem__(self, metric: IntervalMetric) -> MetricValue:
        return self.values[metric]


@dataclass(frozen=True, slots=True)
class IntervalScores:
    """One model's interval scores: `overall[level][f]` over all steps and
    `per_step[level][k - 1][f]` for step k, levels in the order given."""

    levels: tuple[float, ...]
    overall: tuple[tuple[IntervalCell, ...], ...]
    per_step: tuple[tuple[tuple[IntervalCell, ...], ...], ...]


def score_intervals(
    actual: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    levels: tuple[float, ...],
    valid: np.ndarray | None = None,
) -> IntervalScores:
    """Every interval metric per level and feature, overall and per forecast step.

    actual: (n, output_steps, n_features); lower and upper: (n, n_levels, output_steps,
    n_features); levels: the nominal coverage α of each, in (0, 1); valid (optional, the
    shape of actual): pairs where it is False are left out. Raises ValueError on other
    shapes or levels.
    """
    if np.ndim(actual) != 3:
        raise ValueError(f"actual must have shape (n_samples, steps, n_features), got {np.shape(actual)}")
    n, steps, features = actual.shape
    expected = (n, len(levels), steps, features)
    if np.shape(lower) != expected or np.shape(upper) != expected:
        raise ValueError(f"bounds {np.shape(lower)} and {np.shape(upper)} do not match {expected}")
    if any(not 0 < level < 1 for level in levels):
        raise ValueError(f"interval levels must lie in (0, 1), got {list(levels)}")
    if valid is not None and valid.shape != actual.shape:
        raise ValueError(f"valid {valid.shape} does not match actual {actual.shape}")
    overall, per_step = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for index, level in enumerate(levels):
            sums = _Sums(actual, lower[:, index], upper[:, index], level, valid)
            overall.append(tuple(sums.cell(slice(None), f, n * steps) for f in range(features)))
            per_step.append(tuple(tuple(sums.cell(k, f, n) for f in range(features)) for k in range(steps)))
    return IntervalScores(tuple(levels), tuple(overall), tuple(per_step))


class _Sums:
    """Per (step, feature) sums over the samples of one level's pairs."""

    def __init__(self, actual, lower, upper, level: float, valid: np.ndarray | None):
        beta = 1.0 - level
        ok = np.isfinite(actual) & np.isfinite(lower) & np.isfinite(upper)
        if valid is not None:
            ok &= valid
        y = np.where(ok, actual, 0.0)
        low = np.where(ok, lower, 0.0)
        high = np.where(ok, upper, 0.0)
        below = np.maximum(low - y, 0.0)  # how far y lies under the interval
        above = np.maximum(y - high, 0.0)  # and over it
        width = high - low
        tau_low, tau_high = beta / 2, 1.0 - beta / 2
        # ρ_τl(y, l) + ρ_τu(y, u), written with the distances outside and the width.
        pinball = tau_low * (y - low) + below + (1.0 - tau_high) * (high - y) + above
        self.count = ok.sum(axis=0)
        self.covered = (ok & (low <= y) & (y <= high)).sum(axis=0)
        self.crossed = (ok & (low > high)).sum(axis=0)
        self.width = width.sum(axis=0)
        self.pinball = pinball.sum(axis=0) / 2
        self.winkler = (width + (2.0 / beta) * (below + above)).sum(axis=0)

    def cell(self, steps: int | slice, f: int, pairs: int) -> IntervalCell:
        """The cell of feature f over one step (an index) or all of them (a slice)."""
        count = int(self.count[steps, f].sum())
        covered, crossed = int(self.covered[steps, f].sum()), int(self.crossed[steps, f].sum())
        width, pinball, winkler = (float(a[steps, f].sum()) for a in (self.width, self.pinball, self.winkler))
        excluded = pairs - count
        if count == 0:
            reason = EMPTY_SPLIT if excluded == 0 else f"no pair with finite actual and bounds ({excluded} excluded)"
            return IntervalCell({metric: MetricValue.undefined(reason) for metric in IntervalMetric}, 0, excluded)
        if crossed:
            reason = f"the lower bound is above the upper bound in {crossed} of {count} pairs"
            return IntervalCell({metric: MetricValue.undefined(reason) for metric in IntervalMetric}, count, excluded)
        values = {
            IntervalMetric.COVERAGE: MetricValue.of(covered / count),
            IntervalMetric.MEAN_WIDTH: MetricValue.of(width / count),
            IntervalMetric.PINBALL: MetricValue.of(pinball / count),
            IntervalMetric.WINKLER: MetricValue.of(winkler / count),
        }
        return IntervalCell(values, count, excluded)
