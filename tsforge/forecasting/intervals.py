"""Prediction intervals from validation residuals: split conformal, per output feature
and forecast step.

For a level a (e.g. 0.8) and n validation windows, the half-width at step k of feature
j is the ceil((n + 1) a)-th smallest of the n absolute errors |actual - forecast| there;
the interval is the forecast plus or minus it. When the validation windows are
exchangeable with later ones, a new window's value lies inside with probability at
least a (Vovk et al.; Lei et al. 2018, "Distribution-free predictive inference for
regression"). A level needs n >= 1 / (1 - a) - 1 windows (19 for 0.95); levels the
validation split is too small for are left out. Works for any model: it only needs
forecasts and actual values, in original units.

The validation split is also what early stopping and ensemble weights look at, so the
calibration is slightly optimistic for models that chose their epoch or weights on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_LEVELS = (0.8, 0.95)


@dataclass(frozen=True)
class ConformalIntervals:
    """half_widths[l, k, j]: level l, step k, output feature j, original units."""

    levels: tuple[float, ...]
    half_widths: np.ndarray
    calibration_count: int

    @classmethod
    def calibrate(
        cls, predicted: np.ndarray, actual: np.ndarray, levels: Sequence[float] = DEFAULT_LEVELS
    ) -> ConformalIntervals:
        """From forecasts and actual values (n, output_steps, n_outputs) of the
        validation split. Raises ValueError for shapes that differ or a level outside
        (0, 1)."""
        predicted, actual = np.asarray(predicted, dtype=np.float64), np.asarray(actual, dtype=np.float64)
        if predicted.shape != actual.shape or predicted.ndim != 3:
            raise ValueError(f"predicted {predicted.shape} and actual {actual.shape} must be equal 3-D shapes")
        if any(not 0 < level < 1 for level in levels):
            raise ValueError(f"levels must lie in (0, 1), got {list(levels)}")
        n = len(actual)
        errors = np.sort(np.abs(actual - predicted), axis=0)
        kept, widths = [], []
        for level in sorted(levels):
            rank = math.ceil((n + 1) * level)
            if rank > n:
                continue
            kept.append(float(level))
            widths.append(errors[rank - 1])
        shape = (0, *actual.shape[1:])
        return cls(tuple(kept), np.stack(widths) if widths else np.zeros(shape), n)

    def bounds(self, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper), each (n, levels, output_steps, n_outputs) float64, around
        forecasts (n, output_steps, n_outputs) in original units."""
        centre = np.asarray(predicted, dtype=np.float64)[:, None]
        return centre - self.half_widths[None], centre + self.half_widths[None]

    @classmethod
    def from_flat(
        cls, levels: Sequence[float], half_widths: Sequence[float], output_steps: int, n_outputs: int, count: int = 0
    ) -> ConformalIntervals:
        """From the PredictionIntervals message's fields (half_widths row-major
        (level, step, feature)). Raises ValueError when the sizes disagree."""
        widths = np.asarray(half_widths, dtype=np.float64)
        if widths.size != len(levels) * output_steps * n_outputs:
            raise ValueError(
                f"{widths.size} half-widths for {len(levels)} levels x {output_steps} steps x {n_outputs} outputs"
            )
        return cls(tuple(float(level) for level in levels), widths.reshape(len(levels), output_steps, n_outputs), count)
