"""The metric tables of one split: models and baselines, overall, per step and aggregated.

Every row of a split scores the same (sample, step) pairs: a pair is scored when its
actual and the naive and seasonal-naive forecasts are finite (history missing early in
the data leaves the first samples out for every row alike). A model's own non-finite
predictions are left out of that model's rows only. Rows count what they left out in
`scores.excluded`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.evaluation.baselines import (
    Baseline,
    naive_forecast,
    seasonal_naive_forecast,
    training_mean_forecast,
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
    `aggregation_steps` and `step_width_minutes` in AGGREGATED rows, otherwise 0."""

    model: str
    baseline: Baseline | None
    feature: str
    scores: Scores
    step: int = 0
    aggregation_steps: int = 0
    step_width_minutes: float = 0.0


@dataclass(frozen=True, slots=True)
class SkillRow:
    """A model's skill against one baseline on one feature, every metric."""

    model: str
    baseline: Baseline
    feature: str
    skill: Mapping[Metric, MetricValue]


@dataclass(frozen=True, slots=True)
class RankingRow:
    """One model or baseline's place by a metric averaged over the output features."""

    rank: int
    model: str
    baseline: Baseline | None
    value: MetricValue


@dataclass(frozen=True, slots=True)
class SplitTables:
    """The tables of one split in one unit. Rows are ordered by model (in the order given,
    baselines last in Baseline order), feature, then step or width."""

    overall: tuple[MetricRow, ...]
    per_step: tuple[MetricRow, ...]
    aggregated: tuple[MetricRow, ...]

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
        per_forecast: dict[tuple[str, Baseline | None], list[MetricValue]] = {}
        for row in self.overall:
            per_forecast.setdefault((row.model, row.baseline), []).append(row.scores[metric])
        means = {key: mean_over_features(values) for key, values in per_forecast.items()}
        return tuple(RankingRow(place.rank, *place.key, place.value) for place in rank(means))


def evaluate_split(
    actual: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    features: Sequence[str],
    step_minutes: float | Sequence[float],
    *,
    history: np.ndarray | None = None,
    train_mean: np.ndarray | None = None,
    mase_scales: Sequence[MetricValue | float] | None = None,
    season_steps: int = 1,
    max_aggregation_steps: int = MAX_AGGREGATION_STEPS,
) -> SplitTables:
    """The OVERALL, PER_STEP and AGGREGATED tables of the models' predictions and the
    baselines on one split.

    actual and each prediction: (n_samples, output_steps, n_features), one unit (original
    or scaled) throughout. history (same unit, see baselines) gives the NAIVE and
    SEASONAL_NAIVE rows, train_mean (one per feature, baselines.training_mean) the
    TRAINING_MEAN rows; a baseline whose input is None is left out. mase_scales: one per
    feature (metrics.mase_scale), None leaves MASE undefined. step_minutes: the step width
    of each feature (or one for all).

    AGGREGATED: for w = 1..min(max_aggregation_steps, output_steps), actual and forecast
    are averaged over blocks of w consecutive steps (steps 1..w, w+1..2w, ...; a trailing
    partial block is dropped) and every metric is computed over all (sample, block) pairs
    of the feature; a block holding a non-finite value is non-finite. MASE divides by the
    same q at every width. step_width_minutes = w · step_minutes of the feature. Row w = 1
    equals the OVERALL row.

    Raises ValueError when shapes disagree, when season_steps < 1, or when history has
    fewer than season_steps steps.
    """
    if np.ndim(actual) != 3:
        raise ValueError(f"actual must have shape (n_samples, output_steps, n_features), got {np.shape(actual)}")
    n, steps, n_features = actual.shape
    if len(features) != n_features:
        raise ValueError(f"{len(features)} feature names for {n_features} features")
    minutes = np.broadcast_to(np.asarray(step_minutes, dtype=np.float64), (n_features,))
    forecasts: dict[Hashable, np.ndarray] = dict(predictions)
    masked: list[Baseline] = []
    if history is not None:
        if history.shape[0] != n or history.shape[2] != n_features:
            raise ValueError(f"history {history.shape} does not match actual {actual.shape}")
        forecasts[Baseline.NAIVE] = naive_forecast(history, steps)
        forecasts[Baseline.SEASONAL_NAIVE] = seasonal_naive_forecast(history, steps, season_steps)
        masked = [Baseline.NAIVE, Baseline.SEASONAL_NAIVE]
    empty_training = np.zeros(n_features, dtype=bool)
    if train_mean is not None:
        train_mean = np.asarray(train_mean, dtype=np.float64)
        empty_training = ~np.isfinite(train_mean)
        # Scored as 0 so the feature takes the fast path; its rows are replaced below.
        forecasts[Baseline.TRAINING_MEAN] = training_mean_forecast(np.where(empty_training, 0.0, train_mean), n, steps)

    overall, per_step, aggregated = [], [], []
    for width in range(1, min(max_aggregation_steps, steps) + 1):
        level_actual = _block_average(actual, width)
        level_forecasts = {key: _block_average(forecast, width) for key, forecast in forecasts.items()}
        valid = None
        if masked:
            valid = np.isfinite(level_forecasts[masked[0]])
            for key in masked[1:]:
                valid &= np.isfinite(level_forecasts[key])
        scored = score_forecasts(level_actual, level_forecasts, mase_scales, valid)
        for key, result in scored.items():
            model, baseline = ("", key) if isinstance(key, Baseline) else (key, None)
            for f, feature in enumerate(features):
                if baseline is Baseline.TRAINING_MEAN and empty_training[f]:
                    result = _undefined_feature(result, f)
                row = MetricRow(model, baseline, feature, result.overall[f])
                aggregated.append(
                    MetricRow(
                        model,
                        baseline,
                        feature,
                        row.scores,
                        0,
                        width,
                        float(width * minutes[f]),
                    )
                )
                if width == 1:
                    overall.append(row)
                    per_step.extend(
                        MetricRow(model, baseline, feature, cells[f], step=k)
                        for k, cells in enumerate(result.per_step, start=1)
                    )
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

    return SplitTables(by_forecast(overall), by_forecast(per_step), by_forecast(aggregated))


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
