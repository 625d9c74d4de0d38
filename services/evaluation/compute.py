"""Computing an evaluation: read a run's predictions through training, score them.

The actual values, history and scalers are the dataset's, the same for every model of
a run: they are read once (with the first model's predictions) and shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.evaluation.messages import split_table_messages
from services.evaluation.metric_tables import evaluate_split
from services.evaluation.metrics import mase_scale
from services.evaluation.predictions import SplitPredictions, TrainingSource, read_split
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

MINUTES_PER_DAY = 24 * 60
MAX_SEASON_STEPS = 10_000
EVALUATED_SPLITS = (common_pb2.DATA_SPLIT_TEST, common_pb2.DATA_SPLIT_VALIDATION)
UNITS = (er.VALUE_UNITS_ORIGINAL, er.VALUE_UNITS_SCALED)


@dataclass(frozen=True)
class ComputedEvaluation:
    models: tuple[str, ...]
    features: tuple[str, ...]
    season_steps: int
    tables: tuple[er.MetricTable, ...]  # every kind, for each evaluated split and unit


def resolve_season(season_steps: int, infer_season: bool, dataset: tr.Dataset) -> int:
    """The season m to use: as given; else one day in forecast steps of the first output
    feature when inferring and a day is a whole number of steps (≤ 10000); else 1."""
    if season_steps:
        return season_steps
    if not infer_season or not dataset.spec.outputs or len(dataset.y_shape) < 2 or dataset.y_shape[1] == 0:
        return 1
    horizon = dataset.spec.outputs[0].horizon
    step_minutes = (horizon.end - horizon.start) * 60 / dataset.y_shape[1]
    if step_minutes <= 0:
        return 1
    steps = MINUTES_PER_DAY / step_minutes
    whole = round(steps)
    return whole if abs(steps - whole) < 1e-9 and 1 <= whole <= MAX_SEASON_STEPS else 1


def compute_evaluation(
    source: TrainingSource, tenant: str, models: Sequence[tr.ModelResult], season_steps: int
) -> ComputedEvaluation:
    """Every metric table of `models` (SUCCEEDED models of one run) on the test and
    validation splits, in original and scaled units, with the three baselines.

    Raises what the source raises (NotFound, FailedPrecondition, Unavailable), and
    ValueError when the models' predictions disagree in shape (not one dataset).
    """
    names = tuple(model.name for model in models)
    model_types = {model.name: model.model_type for model in models}
    history_steps = season_steps  # seasonal naive and the MASE scale reach m − 1 and m steps back
    train = read_split(source, tenant, names[0], common_pb2.DATA_SPLIT_TRAIN, history_steps)
    features = train.feature_names
    train_history_scaled = train.history_scaled()
    scales = {
        er.VALUE_UNITS_ORIGINAL: mase_scale(train.actual, train.history, season_steps),
        er.VALUE_UNITS_SCALED: mase_scale(train.actual_scaled, train_history_scaled, season_steps),
    }
    empty_training = len(train.reference_times) == 0
    means_original = np.array([np.nan if empty_training else f.scaler.data_mean for f in train.features])
    means = {
        er.VALUE_UNITS_ORIGINAL: means_original,
        er.VALUE_UNITS_SCALED: np.array(
            [f.scaler.transform(np.float64(mean)) for f, mean in zip(train.features, means_original)]
        ),
    }
    step_minutes = [feature.step_minutes for feature in train.features]
    tables: list[er.MetricTable] = []
    for split in EVALUATED_SPLITS:
        first = read_split(source, tenant, names[0], split, history_steps)
        others = [read_split(source, tenant, name, split) for name in names[1:]]
        for name, other in zip(names[1:], others):
            if other.actual.shape != first.actual.shape or other.feature_names != features:
                raise ValueError(f"{name}'s predictions do not match {names[0]}'s: not one dataset")
        for units in UNITS:
            scaled = units == er.VALUE_UNITS_SCALED
            predictions = {name: _values(rows, scaled) for name, rows in zip(names, [first, *others])}
            split_tables = evaluate_split(
                first.actual_scaled if scaled else first.actual,
                predictions,
                features,
                step_minutes,
                history=first.history_scaled() if scaled else first.history,
                train_mean=means[units],
                mase_scales=scales[units],
                season_steps=season_steps,
            )
            tables += split_table_messages(split_tables, split, units, model_types)
    return ComputedEvaluation(names, features, season_steps, tuple(tables))


def _values(rows: SplitPredictions, scaled: bool) -> np.ndarray:
    return rows.predicted_scaled if scaled else rows.predicted
