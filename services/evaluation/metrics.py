"""Error metrics of forecasts against actual values, as tsforge.evaluation.v1.Metric defines them.

Arrays are float64 of shape (n_samples, output_steps, n_features): one sample per
reference time, one column per output feature. A table cell covers one feature and the
set S of (sample, step) pairs it scores; n = |S|, y the actual, ŷ the forecast:

- MAE = (1/n) Σ |y − ŷ|;  MSE = (1/n) Σ (y − ŷ)²;  RMSE = √MSE.
- MAPE (percent) = (100/n) Σ |y − ŷ| / |y|; undefined when any y in S is 0 (the proto's
  rule: zeros are not skipped, the reason says how many there are).
- NRMSE_MEAN = RMSE / |(1/n) Σ y|, undefined when that mean is 0.
- NRMSE_RANGE = RMSE / (max y − min y), undefined when the actuals are constant.
- WAPE (percent) = 100 · Σ |y − ŷ| / Σ |y|, undefined when every y is 0.
- sMAPE (percent, 0..200) = (100/n) Σ 2 |y − ŷ| / (|y| + |ŷ|), a pair with y = ŷ = 0
  counting 0.
- MASE = MAE / q with q from `mase_scale` (see there); undefined when q is not given,
  undefined or 0.

Non-finite values (NaN, ±inf) in y or ŷ: such a pair is left out of S for that forecast
and counted in Scores.excluded; nothing else changes. With n = 0 every metric is
undefined ("empty split" when nothing was excluded). A result that overflows to infinity
is undefined too. No function here returns NaN or raises for data; they raise ValueError
only for arrays of the wrong shape.

One pass per forecast: the per-step sums of |e|, e², |e|/|y| and the sMAPE terms are
reduced over the samples once, and each overall cell is the sum of its step cells. What
depends on the actuals alone (|y|, 1/|y|, Σ y, min, max, zeros) is computed once and
shared by every forecast scored against them.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

EMPTY_SPLIT = "empty split"
# The smallest positive double: max(|y| + |ŷ|, it) changes only a zero denominator, whose
# numerator |y − ŷ| is then 0 too, so the pair counts 0 as sMAPE's definition says.
_SMALLEST_POSITIVE = float(np.nextafter(0.0, 1.0))


class Metric(enum.IntEnum):
    """The metrics, numbered as tsforge.evaluation.v1.Metric; tables list them in this order."""

    MAE = 1
    MAPE = 2
    MSE = 3
    RMSE = 4
    NRMSE_MEAN = 5
    NRMSE_RANGE = 6
    WAPE = 7
    SMAPE = 8
    MASE = 9


@dataclass(frozen=True, slots=True)
class MetricValue:
    """A metric's finite value, or why there is none: exactly one of the two is set."""

    value: float | None
    undefined_reason: str = ""

    def __post_init__(self) -> None:
        if (self.value is None) == (not self.undefined_reason):
            raise ValueError("exactly one of value and undefined_reason must be set")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"a metric value must be finite, got {self.value}")

    @classmethod
    def of(cls, value: float) -> MetricValue:
        """The value, or undefined ("not finite (overflow)") when it is not finite."""
        value = float(value)
        if not math.isfinite(value):
            return cls(None, "not finite (overflow)")
        return cls(value)

    @classmethod
    def undefined(cls, reason: str) -> MetricValue:
        return cls(None, reason)

    @property
    def defined(self) -> bool:
        return self.value is not None

    @property
    def number(self) -> float:
        """The value of a defined metric (ValueError for an undefined one)."""
        if self.value is None:
            raise ValueError(f"the metric is undefined: {self.undefined_reason}")
        return self.value


@dataclass(frozen=True, slots=True)
class Scores:
    """Every metric of one table cell, with the pairs it covers and the pairs left out."""

    values: Mapping[Metric, MetricValue]
    count: int
    excluded: int

    def __getitem__(self, metric: Metric) -> MetricValue:
        return self.values[metric]


@dataclass(frozen=True, slots=True)
class ForecastScores:
    """One forecast's scores per feature: `overall[f]` over all samples and steps, and
    `per_step[k - 1][f]` for forecast step k = 1..output_steps."""

    overall: tuple[Scores, ...]
    per_step: tuple[tuple[Scores, ...], ...]


def mase_scale(train_actual: np.ndarray, train_history: np.ndarray, season_steps: int = 1) -> tuple[MetricValue, ...]:
    """The MASE scale q of each feature: the in-sample MAE of the seasonal-naive forecast
    on the training split, i.e. the mean of |y(j) − y(j − m)| over every training sample
    and step j = 1..output_steps, m = season_steps (Hyndman and Koehler's in-sample scale,
    lag m, taken over the training windows as they are stored). The value m steps earlier
    comes from the same sample's window when j > m and from its history otherwise
    (history index h = m − j, newest first, h = 0 at the reference time). Pairs with a
    non-finite value are skipped. q is undefined when the training split is empty (or has
    no finite pair) and is returned as 0.0 when the training series never changes over a
    lag of m (MASE then reports it undefined).

    train_actual: (n, output_steps, n_features); train_history: (n, history_steps,
    n_features). Raises ValueError on other shapes, for season_steps < 1, or when
    history_steps < season_steps.
    """
    _check_3d("train_actual", train_actual)
    _check_3d("train_history", train_history)
    if season_steps < 1:
        raise ValueError(f"season_steps must be at least 1, got {season_steps}")
    n, steps, features = train_actual.shape
    if train_history.shape[0] != n or train_history.shape[2] != features:
        raise ValueError(f"train_history {train_history.shape} does not match train_actual {train_actual.shape}")
    if train_history.shape[1] < season_steps:
        raise ValueError(f"history has {train_history.shape[1]} steps, fewer than season_steps = {season_steps}")
    # Oldest first: positions j = 1 − m .. steps, so index i holds j = i + 1 − m.
    series = np.concatenate([train_history[:, season_steps - 1 :: -1, :], train_actual], axis=1)
    differences = np.abs(series[:, season_steps:, :] - series[:, :steps, :]).reshape(-1, features)
    finite = np.isfinite(differences)
    counts = finite.sum(axis=0)
    totals = np.where(finite, differences, 0.0).sum(axis=0)
    return tuple(
        MetricValue.undefined("MASE scale: empty training split") if count == 0 else MetricValue.of(total / count)
        for count, total in zip(counts, totals)
    )


def score(
    actual: np.ndarray,
    predicted: np.ndarray,
    mase_scales: Sequence[MetricValue | float] | None = None,
) -> ForecastScores:
    """Every metric of one forecast against the actuals, overall and per step (see
    `score_forecasts`)."""
    return score_forecasts(actual, {"forecast": predicted}, mase_scales)["forecast"]


Key = TypeVar("Key", bound=Hashable)


def score_forecasts(
    actual: np.ndarray,
    forecasts: Mapping[Key, np.ndarray],
    mase_scales: Sequence[MetricValue | float] | None = None,
    valid: np.ndarray | None = None,
) -> dict[Key, ForecastScores]:
    """Every metric of each named forecast against the same actuals, per feature overall
    and per forecast step.

    actual and every forecast: (n_samples, output_steps, n_features). mase_scales: one q
    per feature (from `mase_scale`); None leaves MASE undefined. valid, optional, the same
    shape as actual: pairs where it is False are left out of every forecast's scores
    (counted as excluded), as are pairs where the actual or that forecast is not finite.
    Raises ValueError when shapes disagree.
    """
    _check_3d("actual", actual)
    features = actual.shape[2]
    if mase_scales is not None and len(mase_scales) != features:
        raise ValueError(f"{len(mase_scales)} MASE scales for {features} features")
    scales = [_as_scale(q) for q in mase_scales] if mase_scales is not None else None
    base_valid = np.isfinite(actual)
    if valid is not None:
        if valid.shape != actual.shape:
            raise ValueError(f"valid {valid.shape} does not match actual {actual.shape}")
        base_valid &= valid
    # Overflow to infinity (values near 1e308) is reported as undefined by MetricValue.of.
    with np.errstate(over="ignore", invalid="ignore"):
        return _score_all(actual, forecasts, scales, base_valid)


def _score_all(
    actual: np.ndarray,
    forecasts: Mapping[Key, np.ndarray],
    scales: list[MetricValue] | None,
    base_valid: np.ndarray,
) -> dict[Key, ForecastScores]:
    shared = _ActualSums(actual, None if base_valid.all() else base_valid)
    results = {}
    for name, predicted in forecasts.items():
        if predicted.shape != actual.shape:
            raise ValueError(f"forecast {name!r} {predicted.shape} does not match actual {actual.shape}")
        sums = _forecast_sums(shared, predicted)
        if sums is None:
            # The forecast is not finite somewhere the actual is: this forecast gets its own
            # mask, and the actual-only sums are redone for it (rare; costs one more pass).
            own = _ActualSums(actual, base_valid & np.isfinite(predicted))
            sums = _forecast_sums(own, predicted)
        assert sums is not None  # finite wherever its own mask admits
        results[name] = _scores_from_sums(sums, scales, actual.shape[0])
    return results


class _ActualSums:
    """What the actuals alone contribute, per (step, feature): computed once per mask."""

    def __init__(self, actual: np.ndarray, valid: np.ndarray | None):
        self.valid = valid
        if valid is None:
            self.actual = actual
            self.minimum = actual.min(axis=0, initial=np.inf)
            self.maximum = actual.max(axis=0, initial=-np.inf)
            self.count: np.ndarray = np.full(actual.shape[1:], actual.shape[0], dtype=np.int64)
        else:
            self.actual = np.where(valid, actual, 0.0)
            self.minimum = np.where(valid, actual, np.inf).min(axis=0, initial=np.inf)
            self.maximum = np.where(valid, actual, -np.inf).max(axis=0, initial=-np.inf)
            self.count = valid.sum(axis=0)
        self.absolute = np.abs(self.actual)
        nonzero = self.absolute != 0
        self.reciprocal = np.divide(1.0, self.absolute, out=np.zeros_like(self.absolute), where=nonzero)
        zeros = ~nonzero if valid is None else ~nonzero & valid
        self.zeros = zeros.sum(axis=0)
        self.sum = self.actual.sum(axis=0)
        self.sum_absolute = self.absolute.sum(axis=0)


@dataclass(frozen=True, slots=True)
class _Sums:
    actual: _ActualSums
    absolute_error: np.ndarray
    squared_error: np.ndarray
    percentage_error: np.ndarray
    symmetric_error: np.ndarray


def _forecast_sums(actual: _ActualSums, predicted: np.ndarray) -> _Sums | None:
    """The per-(step, feature) sums of one forecast; None when it is not finite somewhere
    the mask admits (the caller then masks it)."""
    if actual.valid is not None:
        predicted = np.where(actual.valid, predicted, 0.0)
    error = np.subtract(predicted, actual.actual)
    np.abs(error, out=error)
    absolute_error = error.sum(axis=0)
    if not np.isfinite(absolute_error).all() and not np.isfinite(predicted).all():
        return None
    squared_error = np.einsum("ijk,ijk->jk", error, error)
    percentage_error = np.einsum("ijk,ijk->jk", error, actual.reciprocal)
    denominator = np.abs(predicted)
    denominator += actual.absolute
    np.maximum(denominator, _SMALLEST_POSITIVE, out=denominator)
    np.divide(error, denominator, out=error)
    symmetric_error = error.sum(axis=0)
    return _Sums(actual, absolute_error, squared_error, percentage_error, symmetric_error)


def _scores_from_sums(sums: _Sums, scales: list[MetricValue] | None, samples: int) -> ForecastScores:
    actual = sums.actual
    features = actual.count.shape[1]
    overall = tuple(
        _cell(
            count=int(actual.count[:, f].sum()),
            pairs=samples * actual.count.shape[0],
            absolute_error=sums.absolute_error[:, f].sum(),
            squared_error=sums.squared_error[:, f].sum(),
            percentage_error=sums.percentage_error[:, f].sum(),
            symmetric_error=sums.symmetric_error[:, f].sum(),
            zeros=int(actual.zeros[:, f].sum()),
            actual_sum=actual.sum[:, f].sum(),
            actual_absolute=actual.sum_absolute[:, f].sum(),
            minimum=actual.minimum[:, f].min(),
            maximum=actual.maximum[:, f].max(),
            scale=scales[f] if scales is not None else None,
        )
        for f in range(features)
    )
    per_step = tuple(
        tuple(
            _cell(
                count=int(actual.count[k, f]),
                pairs=samples,
                absolute_error=sums.absolute_error[k, f],
                squared_error=sums.squared_error[k, f],
                percentage_error=sums.percentage_error[k, f],
                symmetric_error=sums.symmetric_error[k, f],
                zeros=int(actual.zeros[k, f]),
                actual_sum=actual.sum[k, f],
                actual_absolute=actual.sum_absolute[k, f],
                minimum=actual.minimum[k, f],
                maximum=actual.maximum[k, f],
                scale=scales[f] if scales is not None else None,
            )
            for f in range(features)
        )
        for k in range(actual.count.shape[0])
    )
    return ForecastScores(overall, per_step)


def _cell(
    *,
    count: int,
    pairs: int,
    absolute_error: float,
    squared_error: float,
    percentage_error: float,
    symmetric_error: float,
    zeros: int,
    actual_sum: float,
    actual_absolute: float,
    minimum: float,
    maximum: float,
    scale: MetricValue | None,
) -> Scores:
    excluded = pairs - count
    if count == 0:
        reason = EMPTY_SPLIT if excluded == 0 else f"no pair with finite actual and forecast ({excluded} excluded)"
        return Scores({metric: MetricValue.undefined(reason) for metric in Metric}, 0, excluded)
    mae = MetricValue.of(absolute_error / count)
    mse = MetricValue.of(squared_error / count)
    rmse = MetricValue.of(math.sqrt(mse.number)) if mse.defined else mse
    mean = actual_sum / count
    values = {
        Metric.MAE: mae,
        Metric.MAPE: (
            MetricValue.undefined(f"actual values contain zeros ({zeros} of {count})")
            if zeros
            else MetricValue.of(100.0 * percentage_error / count)
        ),
        Metric.MSE: mse,
        Metric.RMSE: rmse,
        Metric.NRMSE_MEAN: _ratio(rmse, abs(mean), "mean of actual values is 0"),
        Metric.NRMSE_RANGE: _ratio(rmse, maximum - minimum, "actual values are constant"),
        Metric.WAPE: (
            MetricValue.undefined("every actual value is 0")
            if actual_absolute == 0
            else MetricValue.of(100.0 * absolute_error / actual_absolute)
        ),
        Metric.SMAPE: MetricValue.of(200.0 * symmetric_error / count),
        Metric.MASE: _mase(mae, scale),
    }
    return Scores(values, count, excluded)


def _ratio(numerator: MetricValue, denominator: float, zero_reason: str) -> MetricValue:
    if not numerator.defined:
        return numerator
    if denominator == 0:
        return MetricValue.undefined(zero_reason)
    return MetricValue.of(numerator.number / denominator)


def _mase(mae: MetricValue, scale: MetricValue | None) -> MetricValue:
    if scale is None:
        return MetricValue.undefined("MASE scale not given (no training split)")
    if not scale.defined:
        return MetricValue.undefined(scale.undefined_reason)
    if scale.number == 0:
        return MetricValue.undefined("MASE scale is 0: the training series does not change over a season")
    return _ratio(mae, scale.number, "")


def _as_scale(q: MetricValue | float) -> MetricValue:
    return q if isinstance(q, MetricValue) else MetricValue.of(q)


def _check_3d(name: str, array: np.ndarray) -> None:
    if np.ndim(array) != 3:
        raise ValueError(f"{name} must have shape (n_samples, steps, n_features), got {np.shape(array)}")
