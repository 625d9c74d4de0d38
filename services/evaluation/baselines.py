"""Reference forecasts, as tsforge.evaluation.v1.Baseline defines them.

`history` is what ReadPredictions streams per sample beside the actuals: shape
(n_samples, history_steps, n_features), newest first, h = 0 the feature's value at the
reference time t, h = 1 one step width earlier, and so on; NaN where the data does not
reach that far back. The forecasts keep those NaNs (the tables leave such pairs out).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


class Baseline(enum.IntEnum):
    """The baselines, numbered as tsforge.evaluation.v1.Baseline."""

    NAIVE = 1
    SEASONAL_NAIVE = 2
    TRAINING_MEAN = 3


@dataclass(frozen=True, order=True, slots=True)
class BaselineKey:
    """One baseline forecast of an evaluation: SEASONAL_NAIVE with its season m (> 1),
    the others with season 0. Ordered as tables list them: naive, seasonal naive by
    ascending season, training mean."""

    baseline: Baseline
    season_steps: int = 0

    def label(self, step_minutes: float) -> str:
        """For people: "naive", "seasonal naive (1 week = 336 steps)", "training mean".
        step_minutes is the width of one forecast step (of the first output feature)."""
        if self.baseline is not Baseline.SEASONAL_NAIVE:
            return self.baseline.name.lower().replace("_", " ")
        return f"seasonal naive ({season_label(self.season_steps, step_minutes)})"


def naive_key() -> BaselineKey:
    return BaselineKey(Baseline.NAIVE)


def seasonal_key(season_steps: int) -> BaselineKey:
    """SEASONAL_NAIVE with season m; m = 1 is the naive forecast and gets its key."""
    return naive_key() if season_steps == 1 else BaselineKey(Baseline.SEASONAL_NAIVE, season_steps)


def training_mean_key() -> BaselineKey:
    return BaselineKey(Baseline.TRAINING_MEAN)


def season_label(season_steps: int, step_minutes: float) -> str:
    """ "1 week = 336 steps", "2 days = 96 steps", "12 h = 24 steps", or "7 steps" when
    the season is not a whole number of hours (or the step width is unknown)."""
    minutes = season_steps * step_minutes
    steps = f"{season_steps} steps"
    for unit, singular, plural in (
        (MINUTES_PER_WEEK, "week", "weeks"),
        (MINUTES_PER_DAY, "day", "days"),
        (60, "h", "h"),
    ):
        count = minutes / unit if minutes > 0 else 0.0
        if count >= 1 and abs(count - round(count)) < 1e-9:
            whole = round(count)
            return f"{whole} {singular if whole == 1 else plural} = {steps}"
    return steps


def naive_forecast(history: np.ndarray, output_steps: int) -> np.ndarray:
    """Every step forecasts the value at the reference time (history h = 0): a read-only
    (n_samples, output_steps, n_features) view. Raises ValueError on a history with no steps."""
    _check_history(history, 1)
    return np.broadcast_to(history[:, :1, :], (history.shape[0], output_steps, history.shape[2]))


def seasonal_naive_forecast(history: np.ndarray, output_steps: int, season_steps: int = 1) -> np.ndarray:
    """Repeats the last season before the reference time: step k = 1..output_steps
    forecasts history h = m − 1 − ((k − 1) mod m), m = season_steps (the value m, 2m, ...
    steps before the target, whichever is the latest at or before t). m = 1 is the naive
    forecast. Returns (n_samples, output_steps, n_features). Raises ValueError when
    season_steps < 1 or history has fewer than season_steps steps."""
    if season_steps < 1:
        raise ValueError(f"season_steps must be at least 1, got {season_steps}")
    _check_history(history, season_steps)
    steps = np.arange(output_steps)
    return history[:, season_steps - 1 - steps % season_steps, :]


def training_mean(train_actual: np.ndarray) -> np.ndarray:
    """Each feature's mean over the training split's actual values, every sample and step
    as stored (overlapping windows count a value once per window that holds it);
    non-finite values are skipped; NaN for a feature with no finite value (an empty split).
    train_actual: (n_samples, output_steps, n_features)."""
    values = np.asarray(train_actual).reshape(-1, np.shape(train_actual)[-1])
    finite = np.isfinite(values)
    counts = finite.sum(axis=0)
    totals = np.where(finite, values, 0.0).sum(axis=0)
    return np.divide(totals, counts, out=np.full(values.shape[1], np.nan), where=counts > 0)


def training_mean_forecast(means: np.ndarray, n_samples: int, output_steps: int) -> np.ndarray:
    """Every step forecasts the feature's training mean: a read-only
    (n_samples, output_steps, n_features) view."""
    means = np.asarray(means, dtype=np.float64)
    return np.broadcast_to(means, (n_samples, output_steps, means.shape[0]))


def _check_history(history: np.ndarray, needed: int) -> None:
    if np.ndim(history) != 3:
        raise ValueError(f"history must have shape (n_samples, history_steps, n_features), got {np.shape(history)}")
    if history.shape[1] < needed:
        raise ValueError(f"history has {history.shape[1]} steps, fewer than the {needed} needed")
