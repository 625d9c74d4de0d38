"""The metric tables of one split: models and baselines, overall, per step and aggregated.

Every row of a split scores the same (sample, step) pairs: a pair is scored when its
actual and the naive and every seasonal-naive forecast are finite (history missing
early in the data leaves the first samples out for every row alike; the longest season
decides how many). A model's own non-finite predictions are left out of that model's
rows only. Rows count what they left out in `scores.excluded`.

A split's tables may name a reference baseline ("the baseline", the strongest on the
validation split, see `compare_with_baselines`): every row then carries its skill
against the reference's row of the same cell.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from services.evaluation.baselines import (
    Baseline,
    BaselineKey,
    naive_forecast,
    naive_key,
    seasonal_key,
    seasonal_naive_forecast,
    training_mean_forecast,
    training_mean_key,
)
from services.evaluation.comparison import mean_over_features, rank, skill_scores
from services.evaluation.metrics import (
    ForecastScores,
    Metric,
    MetricValue,
    Scores,
    score_forecasts,
)

MAX_AGGREGATION_STEPS = 12
EMPTY_TRAINING_SPLIT = "training mean undefined: empty training split"


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One row of an OVERALL, PER_STEP or AGGREGATED table. `model` is empty on baseline
    rows, `baseline` None on model rows; `step` is set (1-based) in PER_STEP rows,
    `aggregation_steps` and `step_width_minutes` in AGGREGATED rows, otherwise 0.
    `skill`: every metric's skill against the reference baseline's row of the same cell;
    None without a reference."""

    model: str
    baseline: BaselineKey | None
    feature: str
    scores: Scores
    step: int = 0
    aggregation_steps: int = 0
    step_width_minutes: float = 0.0
    skill: Mapping[Metric, MetricValue] | None = None


@dataclass(frozen=True, slots=True)
class SkillRow:
    """A model's skill against one baseline on one feature, every metric."""

    model: str
    baseline: BaselineKey
    feature: str
    skill: Mapping[Metric, MetricValue]


@dataclass(frozen=True, slots=True)
class RankingRow:
    """One model or baseline's place by a metric averaged over the output features."""

    rank: int
    model: str
    baseline: BaselineKey | None
    value: MetricValue


@dataclass(frozen=True, slots=True)
class SplitTables:
    """The tables of one split in one unit. Rows are ordered by model (in the order given,
    baselines last in BaselineKey order), feature, then step or width. `reference` is
    the baseline the rows' skill is against (None: no skill)."""

    overall: tuple[MetricRow, ...]
    per_step: tuple[MetricRow, ...]
    aggregated: tuple[MetricRow, ...]
    reference: BaselineKey | None = None

    def skill(self) -> tuple[SkillRow, ...]:
        """Every model's skill (1 − its metric / the baseline's) against every baseline,
        per feature, on the overall scores; ordered by model, feature, baseline."""
        baselines = {(row.baseline, row.feature): row.scores for row in self.overall if row.baseline}
        order = sorted({baseline for baseline, _ in baselines})
        return tuple(
            SkillRow(
                row.model,
                baseline,
                row.feature,
                skill_scores(row.scores, baselines[baseline, row.feature]),
            )
            for row in self.overall
            if row.baseline is None
            for baseline in order
        )

    def ranking(self, metric: Metric) -> tuple[RankingRow, ...]:
        """Models and baselines ordered by `metric` averaged over the output features
        (undefined when any feature's is), best first; see comparison.rank for ties and
        undefined values."""
        per_forecast: dict[tuple[str, BaselineKey | None], list[MetricValue]] = {}
        for row in self.overall:
            per_forecast.setdefault((row.model, row.baseline), []).append(row.scores[metric])
        means: dict[Hashable, MetricValue] = {key: mean_over_features(v) for key, v in per_forecast.items()}
        rows = []
        for place in rank(means):
            model, baseline = cast(tuple[str, BaselineKey | None], place.key)
            rows.append(RankingRow(place.rank, model, baseline, place.value))
        return tuple(rows)


def evaluate_split(
    actual: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    features: Sequence[str],
    step_minutes: float | Sequence[float],
    *,
    history: np.ndarray | None = None,
    train_mean: np.ndarray | None = None,
    mase_scales: Sequence[MetricValue | float] | None = None,
    seasons: Sequence[int] = (),
    reference: BaselineKey | None = None,
    max_aggregation_steps: int = MAX_AGGREGATION_STEPS,
) -> SplitTables:
    """The OVERALL, PER_STEP and AGGREGATED tables of the models' predictions and the
    baselines on one split.

    actual and each prediction: (n_samples, output_steps, n_features), one unit (original
    or scaled) throughout. history (same unit, see baselines) gives the NAIVE row and one
    SEASONAL_NAIVE row per season m > 1 in `seasons` (duplicates once; m = 1 is the naive
    row), train_mean (one per feature, baselines.training_mean) the TRAINING_MEAN rows; a
    baseline whose input is None is left out. mase_scales: one per feature
    (metrics.mase_scale), None leaves MASE undefined. step_minutes: the step width of
    each feature (or one for all). reference: the baseline every row's skill is against
    (one of those computed), None for no skill.

    AGGREGATED: for w = 1..min(max_aggregation_steps, output_steps), actual and forecast
    are averaged over blocks of w consecutive steps (steps 1..w, w+1..2w, ...; a trailing
    partial block is dropped) and every metric is computed over all (sample, block) pairs
    of the feature; a block holding a non-finite value is non-finite. MASE divides by the
    same q at every width. step_width_minutes = w · step_minutes of the feature. Row w = 1
    equals the OVERALL row.

    Raises ValueError when shapes disagree, when a season is below 1, when history has
    fewer steps than the longest season, or when the reference is not computed here.
    """
    if np.ndim(actual) != 3:
        raise ValueError(f"actual must have shape (n_samples, output_steps, n_features), got {np.shape(actual)}")
    n, steps, n_features = actual.shape
    if len(features) != n_features:
        raise ValueError(f"{len(features)} feature names for {n_features} features")
    minutes = np.broadcast_to(np.asarray(step_minutes, dtype=np.float64), (n_features,))
    forecasts: dict[Hashable, np.ndarray] = {}
    forecasts.update(predictions.items())
    masked: list[BaselineKey] = []
    if history is not None:
        if history.shape[0] != n or history.shape[2] != n_features:
            raise ValueError(f"history {history.shape} does not match actual {actual.shape}")
        naive = seasonal_forecasts(history, steps, seasons)
        forecasts.update(naive.items())
        masked = list(naive)
    empty_training = np.zeros(n_features, dtype=bool)
    if train_mean is not None:
        train_mean = np.asarray(train_mean, dtype=np.float64)
        empty_training = ~np.isfinite(train_mean)
        # Scored as 0 so the feature takes the fast path; its rows are replaced below.
        forecasts[training_mean_key()] = training_mean_forecast(np.where(empty_training, 0.0, train_mean), n, steps)
    if reference is not None and reference not in forecasts:
        raise ValueError(f"the reference baseline {reference} is not computed here")

    overall: list[MetricRow] = []
    per_step: list[MetricRow] = []
    aggregated: list[MetricRow] = []
    for width in range(1, min(max_aggregation_steps, steps) + 1):
        level_actual = _block_average(actual, width)
        level_forecasts = {key: _block_average(forecast, width) for key, forecast in forecasts.items()}
        valid = None
        if masked:
            valid = np.isfinite(level_forecasts[masked[0]])
            for key in masked[1:]:
                valid &= np.isfinite(level_forecasts[key])
        scored = score_forecasts(level_actual, level_forecasts, mase_scales, valid)
        if training_mean_key() in scored and empty_training.any():
            result = scored[training_mean_key()]
            for empty in np.flatnonzero(empty_training):
                result = _undefined_feature(result, int(empty))
            scored[training_mean_key()] = result
        against = scored[reference] if reference is not None else None
        for name, result in scored.items():
            rows = _rows(name, result, against, features, width, minutes)
            aggregated += rows.aggregated
            overall += rows.overall
            per_step += rows.per_step
    order = {key: index for index, key in enumerate(forecasts)}

    def by_forecast(rows: list[MetricRow]) -> tuple[MetricRow, ...]:
        # Stable: within a forecast, rows keep feature-then-step (or width) order.
        return tuple(
            sorted(
                rows,
                key=lambda row: (
                    order[row.baseline or row.model],
                    features.index(row.feature),
                ),
            )
        )

    return SplitTables(by_forecast(overall), by_forecast(per_step), by_forecast(aggregated), reference)


@dataclass(frozen=True, slots=True)
class _Rows:
    overall: list[MetricRow]
    per_step: list[MetricRow]
    aggregated: list[MetricRow]


def _rows(
    name: Hashable,
    result: ForecastScores,
    against: ForecastScores | None,
    features: Sequence[str],
    width: int,
    minutes: np.ndarray,
) -> _Rows:
    """One forecast's rows at one aggregation width (OVERALL and PER_STEP at width 1),
    each with its skill against the reference's same cell."""
    baseline = name if isinstance(name, BaselineKey) else None
    model = "" if baseline is not None else str(name)
    rows = _Rows([], [], [])
    for f, feature in enumerate(features):
        cell = result.overall[f]
        skill = skill_scores(cell, against.overall[f]) if against is not None else None
        rows.aggregated.append(MetricRow(model, baseline, feature, cell, 0, width, float(width * minutes[f]), skill))
        if width == 1:
            rows.overall.append(MetricRow(model, baseline, feature, cell, skill=skill))
            rows.per_step.extend(
                MetricRow(
                    model,
                    baseline,
                    feature,
                    cells[f],
                    step=k,
                    skill=skill_scores(cells[f], against.per_step[k - 1][f]) if against is not None else None,
                )
                for k, cells in enumerate(result.per_step, start=1)
            )
    return rows


def seasonal_forecasts(history: np.ndarray, steps: int, seasons: Sequence[int]) -> dict[BaselineKey, np.ndarray]:
    """The naive forecast and one seasonal-naive forecast per distinct season m > 1, in
    BaselineKey order. Raises ValueError for a season below 1 or longer than history."""
    keys = sorted({naive_key(), *(seasonal_key(m) for m in seasons if m >= 1)})
    if any(m < 1 for m in seasons):
        raise ValueError(f"seasons must be at least 1, got {sorted(seasons)}")
    return {
        key: naive_forecast(history, steps)
        if key.baseline is Baseline.NAIVE
        else seasonal_naive_forecast(history, steps, key.season_steps)
        for key in keys
    }


def shared_pairs(history: np.ndarray, steps: int, seasons: Sequence[int]) -> np.ndarray:
    """Which (sample, step, feature) pairs every naive and seasonal-naive forecast covers
    (the pairs every row of a split scores, beside a finite actual)."""
    valid = np.ones((history.shape[0], steps, history.shape[2]), dtype=bool)
    for forecast in seasonal_forecasts(history, steps, seasons).values():
        valid &= np.isfinite(forecast)
    return valid


@dataclass(frozen=True, slots=True)
class BaselineComparison:
    """Which baseline a model has to beat on a split, by one metric averaged over the
    output features, and which models do. best_baseline is None when no baseline has a
    defined value (best_baseline_value says why); models_beating lists, best first, the
    models whose value is strictly lower; best_model is "" when no model has a value."""

    metric: Metric
    best_baseline: BaselineKey | None
    best_baseline_value: MetricValue
    models_beating: tuple[str, ...]
    best_model: str
    best_model_value: MetricValue


def compare_with_baselines(tables: SplitTables, metric: Metric) -> BaselineComparison:
    """The strongest baseline of `tables` by `metric` (the lowest mean over the features;
    ties go to the first in BaselineKey order) and the models below it."""
    ranking = tables.ranking(metric)  # best first; equal values keep the table order
    baselines = [row for row in ranking if row.baseline is not None]
    models = [row for row in ranking if row.baseline is None]
    defined = [row for row in baselines if row.value.defined]
    if defined:
        best, best_value = defined[0].baseline, defined[0].value
    else:
        best = None
        reason = baselines[0].value.undefined_reason if baselines else "no baselines"
        best_value = MetricValue.undefined(f"no baseline has a value: {reason}")
    scored = [row for row in models if row.value.defined]
    beating = tuple(row.model for row in scored if best_value.defined and row.value.number < best_value.number)
    if scored:
        best_model, best_model_value = scored[0].model, scored[0].value
    else:
        reason = models[0].value.undefined_reason if models else "no models"
        best_model, best_model_value = "", MetricValue.undefined(f"no model has a value: {reason}")
    return BaselineComparison(metric, best, best_value, beating, best_model, best_model_value)


def strongest_season(tables: SplitTables, metric: Metric) -> int:
    """The season of the strongest of the naive (1) and seasonal-naive baselines by
    `metric`; 1 when none has a defined value."""
    for row in tables.ranking(metric):
        if row.baseline is not None and row.baseline.baseline is not Baseline.TRAINING_MEAN and row.value.defined:
            return row.baseline.season_steps or 1
    return 1


def _block_average(values: np.ndarray, width: int) -> np.ndarray:
    if width == 1:
        return values
    end = values.shape[1] // width * width
    # Strided slices, one per position in the block: a reshape and mean over a short
    # middle axis is several times slower in numpy.
    total = values[:, 0:end:width].copy()
    for position in range(1, width):
        total += values[:, position:end:width]
    total /= width
    return total


def _undefined_feature(result: ForecastScores, f: int) -> ForecastScores:
    """The result with feature f's cells all undefined for an empty training split."""
    undefined = {metric: MetricValue.undefined(EMPTY_TRAINING_SPLIT) for metric in Metric}

    def blank(cells: tuple[Scores, ...]) -> tuple[Scores, ...]:
        return tuple(
            Scores(undefined, 0, cell.count + cell.excluded) if index == f else cell for index, cell in enumerate(cells)
        )

    return ForecastScores(blank(result.overall), tuple(blank(step) for step in result.per_step))
