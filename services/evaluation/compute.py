"""Computing an evaluation: read a run's predictions through training, score them.

The actual values, history and scalers are the dataset's, the same for every model of
a run: they are read once (with the first model's predictions) and shared.

Baselines: naive, one seasonal naive per season (`plan_baselines`: a day, a week when
the data covers three, and the seasons asked for) and the training mean. The strongest
on the validation split by the plan's metric is "the baseline": every table names it
and gives each row's skill against it, MASE takes its season unless one is given, and
the evaluation says which models beat it (BaselineComparison).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from services.evaluation.baselines import MINUTES_PER_DAY, MINUTES_PER_WEEK, BaselineKey
from services.evaluation.intervals import score_intervals
from services.evaluation.messages import interval_table_message, split_table_messages
from services.evaluation.metric_tables import (
    BaselineComparison,
    compare_with_baselines,
    evaluate_split,
    shared_pairs,
    strongest_season,
)
from services.evaluation.metrics import Metric, mase_scale
from services.evaluation.predictions import SplitPredictions, TrainingSource, read_split
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FailedPrecondition, NotFound
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

# The most history ReadPredictions serves: no season can be longer.
MAX_SEASON_STEPS = 4096
# A weekly seasonal naive needs a week of history before each sample; with three
# weeks of reference times at least two have it.
WEEK_COVERAGE_DAYS = 21
EVALUATED_SPLITS = (common_pb2.DATA_SPLIT_TEST, common_pb2.DATA_SPLIT_VALIDATION)
UNITS = (er.VALUE_UNITS_ORIGINAL, er.VALUE_UNITS_SCALED)
# Metrics in data units: averaged over features in SCALED units when baselines are compared.
SCALE_DEPENDENT = (Metric.MAE, Metric.MSE, Metric.RMSE)


@dataclass(frozen=True)
class BaselinePlan:
    """Which baselines an evaluation computes and how it picks the strongest.

    seasons: every seasonal-naive season m > 1, ascending. mase_season: the MASE season
    when the request gives one, else None (the strongest's). metric: compares baselines
    and models on the validation split. step_minutes: the first output feature's step
    width, for labels."""

    seasons: tuple[int, ...]
    mase_season: int | None
    metric: Metric
    step_minutes: float

    @property
    def history_steps(self) -> int:
        return max((*self.seasons, self.mase_season or 1, 1))


@dataclass(frozen=True)
class Step:
    """One unit of a computation's work, just done: a model's predictions of a split read
    (READING), or the tables of a split computed (SCORING)."""

    stage: str
    model: str = ""
    split: int = common_pb2.DATA_SPLIT_UNSPECIFIED


READING = "reading predictions"
SCORING = "computing tables"
Progress = Callable[[Step], None]


def work_units(model_count: int) -> int:
    """How many Steps compute_evaluation reports for `model_count` models: the training
    split once, each evaluated split per model, the validation comparison, and each
    evaluated split in each unit."""
    return 1 + len(EVALUATED_SPLITS) * model_count + 1 + len(EVALUATED_SPLITS) * len(UNITS)


def _ignore(_step: Step) -> None:
    pass


@dataclass(frozen=True)
class ComputedEvaluation:
    models: tuple[str, ...]
    features: tuple[str, ...]
    season_steps: int  # the MASE season used
    baselines: tuple[BaselineKey, ...]
    comparison: BaselineComparison
    comparison_units: int  # er.ValueUnits of the comparison's values
    tables: tuple[er.MetricTable, ...]  # every kind, for each evaluated split and unit


def step_minutes_of(dataset: tr.Dataset) -> float:
    """The width of one forecast step of the first output feature, in minutes; 0 when the
    dataset does not say."""
    if not dataset.spec.outputs or len(dataset.y_shape) < 2 or dataset.y_shape[1] == 0:
        return 0.0
    horizon = dataset.spec.outputs[0].horizon
    return max(0.0, (horizon.end - horizon.start) * 60 / dataset.y_shape[1])


def covered_days(dataset: tr.Dataset) -> float:
    """How many days the dataset's reference times span: every aligned instant is a
    sample of a split or a dropped one, so (samples − 1) × the window's step."""
    samples = (
        dataset.train_sample_count
        + dataset.validation_sample_count
        + dataset.test_sample_count
        + dataset.dropped_sample_count
    )
    return max(0, samples - 1) * dataset.spec.window.step_minutes / MINUTES_PER_DAY


def implied_seasons(step_minutes: float, days: float) -> tuple[int, ...]:
    """One day of steps (when whole and at least 2), and one week (when whole, at least
    2, and the data spans 21 days or more); each at most MAX_SEASON_STEPS."""
    found = []
    for minutes, needed_days in ((MINUTES_PER_DAY, 0.0), (MINUTES_PER_WEEK, WEEK_COVERAGE_DAYS)):
        if step_minutes <= 0 or days < needed_days:
            continue
        steps = minutes / step_minutes
        whole = round(steps)
        if abs(steps - whole) < 1e-9 and 2 <= whole <= MAX_SEASON_STEPS:
            found.append(whole)
    return tuple(found)


def plan_baselines(season_steps: int, seasons: Sequence[int], metric: Metric, dataset: tr.Dataset) -> BaselinePlan:
    """The baselines of an evaluation: the implied seasons, season_steps (also the MASE
    season when given) and `seasons`, each once; m = 1 is the naive baseline, always
    there."""
    step = step_minutes_of(dataset)
    every = {*implied_seasons(step, covered_days(dataset)), *seasons, season_steps}
    return BaselinePlan(
        seasons=tuple(sorted(m for m in every if m > 1)),
        mase_season=season_steps or None,
        metric=metric,
        step_minutes=step,
    )


def evaluable_models(
    source: TrainingSource, tenant: str, run_id: str, model: str
) -> tuple[list[tr.ModelResult], tr.Dataset]:
    """The SUCCEEDED models of the run (only `model`, when given) and its dataset.

    Raises NotFound (the run or model, also another tenant's), FailedPrecondition (the
    run or the model is not SUCCEEDED), Unavailable.
    """
    run_name = f"runs/{run_id}"
    run = source.get_run(tenant, run_name)
    if run.state != tr.RUN_STATE_SUCCEEDED:
        raise FailedPrecondition(
            f"{run_name} is {tr.RunState.Name(run.state)}, not SUCCEEDED: only finished runs can be evaluated",
            run_name,
        )
    models = [m for m in run.models if m.state == tr.MODEL_STATE_SUCCEEDED and (not model or m.name == model)]
    if model and not models:
        if not any(m.name == model for m in run.models):
            raise NotFound(model)
        state = next(m.state for m in run.models if m.name == model)
        raise FailedPrecondition(f"{model} is {tr.ModelState.Name(state)}, not SUCCEEDED", model)
    return models, source.get_dataset(tenant, run.dataset)


def compute_evaluation(
    source: TrainingSource,
    tenant: str,
    models: Sequence[tr.ModelResult],
    plan: BaselinePlan,
    progress: Progress = _ignore,
) -> ComputedEvaluation:
    """Every metric table of `models` (SUCCEEDED models of one run) on the test and
    validation splits, in original and scaled units, with the planned baselines, and
    the INTERVALS tables of the models that have intervals. `progress` hears of each
    unit of work as it is done (work_units(len(models)) of them).

    Raises what the source raises (NotFound, FailedPrecondition, Unavailable), what
    `progress` raises, and ValueError when the models' predictions disagree in shape
    (not one dataset) or their intervals cannot be scored.
    """
    names = tuple(model.name for model in models)
    model_types = {model.name: model.model_type for model in models}
    history_steps = plan.history_steps
    train = read_split(source, tenant, names[0], common_pb2.DATA_SPLIT_TRAIN, history_steps)
    progress(Step(READING, names[0], common_pb2.DATA_SPLIT_TRAIN))
    features = train.feature_names
    empty_training = len(train.reference_times) == 0
    means_original = np.array([np.nan if empty_training else f.scaler.data_mean for f in train.features])
    means: dict[int, np.ndarray] = {
        er.VALUE_UNITS_ORIGINAL: means_original,
        er.VALUE_UNITS_SCALED: np.array(
            [f.scaler.transform(np.asarray(mean)) for f, mean in zip(train.features, means_original)]
        ),
    }
    step_minutes = [feature.step_minutes for feature in train.features]
    splits: dict[int, list[SplitPredictions]] = {
        split: _read_models(source, tenant, names, split, history_steps, features, progress)
        for split in EVALUATED_SPLITS
    }

    def tables_of(split: int, units: int, **options):
        rows = splits[split]
        scaled = units == er.VALUE_UNITS_SCALED
        return evaluate_split(
            rows[0].actual_scaled if scaled else rows[0].actual,
            {name: r.predicted_scaled if scaled else r.predicted for name, r in zip(names, rows)},
            features,
            step_minutes,
            history=rows[0].history_scaled() if scaled else rows[0].history,
            train_mean=means[units],
            seasons=plan.seasons,
            **options,
        )

    comparison_units = er.VALUE_UNITS_SCALED if plan.metric in SCALE_DEPENDENT else er.VALUE_UNITS_ORIGINAL
    validation = tables_of(common_pb2.DATA_SPLIT_VALIDATION, comparison_units, max_aggregation_steps=1)
    comparison = compare_with_baselines(validation, plan.metric)
    progress(Step(SCORING, split=common_pb2.DATA_SPLIT_VALIDATION))
    season = plan.mase_season or strongest_season(validation, plan.metric)
    scales = {
        er.VALUE_UNITS_ORIGINAL: mase_scale(train.actual, _history(train.history), season),
        er.VALUE_UNITS_SCALED: mase_scale(train.actual_scaled, _history(train.history_scaled()), season),
    }
    tables: list[er.MetricTable] = []
    for split in EVALUATED_SPLITS:
        rows = splits[split]
        shared = shared_pairs(_history(rows[0].history), rows[0].actual.shape[1], plan.seasons)
        for units in UNITS:
            split_tables = tables_of(split, units, mase_scales=scales[units], reference=comparison.best_baseline)
            tables += split_table_messages(split_tables, split, units, model_types, plan.step_minutes)
            scaled = units == er.VALUE_UNITS_SCALED
            intervals = {}
            for name, r in zip(names, rows):
                bounds = r.bounds(scaled)
                if bounds is not None:
                    actual = r.actual_scaled if scaled else r.actual
                    intervals[name] = score_intervals(actual, *bounds, r.interval_levels, shared)
            tables.append(interval_table_message(intervals, features, split, units, model_types))
            progress(Step(SCORING, split=split))
    baselines = tuple(sorted({row.baseline for row in validation.overall if row.baseline is not None}))
    return ComputedEvaluation(names, features, season, baselines, comparison, comparison_units, tuple(tables))


def _history(history: np.ndarray | None) -> np.ndarray:
    """The history a plan always reads (plan.history_steps covers every season)."""
    if history is None:
        raise ValueError("the evaluation read no history")
    return history


def _read_models(
    source: TrainingSource,
    tenant: str,
    names: Sequence[str],
    split: int,
    history_steps: int,
    features: tuple[str, ...],
    progress: Progress,
) -> list[SplitPredictions]:
    """Every model's rows of one split; the first model's with the history."""
    first = read_split(source, tenant, names[0], split, history_steps)
    progress(Step(READING, names[0], split))
    others = []
    for name in names[1:]:
        other = read_split(source, tenant, name, split)
        if other.actual.shape != first.actual.shape or other.feature_names != features:
            raise ValueError(f"{name}'s predictions do not match {names[0]}'s: not one dataset")
        others.append(other)
        progress(Step(READING, name, split))
    return [first, *others]
