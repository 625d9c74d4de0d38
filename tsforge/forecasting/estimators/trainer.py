"""One entry point to train any model type but the ensemble (see ensemble.py), and one to
load what any of them saved.

Importing this module imports neither TensorFlow, scikit-learn, LightGBM nor
statsforecast: each is imported when a model of its kind is first trained or loaded,
so a worker that only fits SVRs never pays TensorFlow's start-up.

What a model sees for each window: x (n, input_steps, n_inputs) and the future window
(n, output_steps, n_future: lags and calendar at the output steps; n_future may be 0),
both scaled; statistical models instead read the output series' own past (a
HistoryWindows). Every predictor answers predict(x, future, history) with scaled output
windows (n, output_steps, n_outputs).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.estimators.progress import EpochResult, ProgressReporter, TrainingCancelled
from tsforge.forecasting.estimators.specs import (
    KerasSpec,
    LightGbmSpec,
    ModelParams,
    ResolvedModel,
    StatisticalModelSpec,
)
from tsforge.forecasting.target_history import HistoryWindows, TargetHistory

__all__ = [
    "ArtifactFormat",
    "Predictor",
    "TrainedModel",
    "TrainingCancelled",
    "TrainingData",
    "load_model",
    "needs_history",
    "train_model",
]


class ArtifactFormat(enum.StrEnum):
    """Native format of a trained model's artifact."""

    KERAS = "keras"  # the bytes of a `.keras` file
    JOBLIB = "joblib"  # a joblib pickle of a scikit-learn WindowRegressor or a StatisticalForecaster
    LIGHTGBM = "lightgbm"  # a JSON document with LightGBM's text models
    ENSEMBLE = "ensemble"  # a zip of member artifacts and ensemble.json

    @property
    def proto(self) -> int:
        """The tsforge.common.v1.ArtifactFormat value."""
        return common_pb2.ArtifactFormat.Value(f"ARTIFACT_FORMAT_{self.name}")


def _windows(name: str, array: np.ndarray | None, steps_axis_like: np.ndarray | None = None) -> np.ndarray:
    if array is None:
        shape = (0, *steps_axis_like.shape[1:]) if steps_axis_like is not None else (0, 0, 0)
        return np.zeros(shape, dtype=np.float32)
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(f"{name} must be 3-D (samples, steps, features), got shape {array.shape}")
    return array


def _future(name: str, array: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    if array is None:
        return np.zeros((*y.shape[:2], 0), dtype=np.float32)
    array = _windows(name, array)
    if array.shape[:2] != y.shape[:2]:
        raise ValueError(f"{name} {array.shape} must have the samples and output steps of y {y.shape}")
    return array


@dataclass
class TrainingData:
    """Scaled sample windows: x (n, input_steps, n_inputs) and future (n, output_steps,
    n_future) → y (n, output_steps, n_outputs).

    The validation split may be empty (or None): then there is no early stopping and no
    validation metric. Arrays are converted to contiguous float32; a missing future is
    (n, output_steps, 0). `history` (the output series on their grid, scaled) and each
    split's reference times (int64 ns) are what statistical models train on; other
    models ignore them. Raises ValueError when shapes disagree.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    future_train: np.ndarray | None = None
    future_val: np.ndarray | None = None
    history: TargetHistory | None = None
    train_references: np.ndarray | None = None
    val_references: np.ndarray | None = None
    # How many of x's last columns are calendar columns (the same at every input step
    # but for their phase): tree models read them at the last input step only.
    n_calendar: int = 0

    def __post_init__(self):
        self.x_train = _windows("x_train", self.x_train)
        self.y_train = _windows("y_train", self.y_train)
        self.x_val = _windows("x_val", self.x_val, self.x_train)
        self.y_val = _windows("y_val", self.y_val, self.y_train)
        self.future_train = _future("future_train", self.future_train, self.y_train)
        self.future_val = _future("future_val", self.future_val, self.y_val)
        if len(self.x_train) == 0:
            raise ValueError("there are no training samples")
        for x, y, split in ((self.x_train, self.y_train, "train"), (self.x_val, self.y_val, "val")):
            if len(x) != len(y):
                raise ValueError(f"x_{split} has {len(x)} samples but y_{split} has {len(y)}")
            if x.shape[1:] != self.x_train.shape[1:] or y.shape[1:] != self.y_train.shape[1:]:
                raise ValueError(
                    f"{split} windows {x.shape[1:]} → {y.shape[1:]} differ from the training "
                    f"windows {self.x_train.shape[1:]} → {self.y_train.shape[1:]}"
                )
        if self.future_val.shape[2] != self.future_train.shape[2]:
            raise ValueError("future_val and future_train have different feature counts")
        if not 0 <= self.n_calendar < self.x_train.shape[2]:
            raise ValueError(f"n_calendar {self.n_calendar} must leave at least one input column")

    @property
    def input_steps(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_future(self) -> int:
        assert self.future_train is not None  # __post_init__ fills it
        return self.future_train.shape[2]

    @property
    def has_validation(self) -> bool:
        assert self.x_val is not None  # __post_init__ fills it
        return len(self.x_val) > 0

    def history_at(self, references: np.ndarray | None) -> HistoryWindows | None:
        if self.history is None or references is None:
            return None
        return self.history.at(references)


class Predictor(Protocol):
    def predict(
        self, x: np.ndarray, future: np.ndarray | None = None, history: HistoryWindows | None = None
    ) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs) for input windows (n, input_steps,
        n_inputs), the future windows (n, output_steps, n_future; None: no columns) and,
        for statistical models, the output history of each window."""


@dataclass(frozen=True)
class TrainedModel:
    """A trained model: its artifact to store, its history, and a predictor to use now."""

    artifact: bytes
    artifact_format: ArtifactFormat
    predictor: Predictor
    # Per-epoch results; empty for scikit-learn models.
    history: list[EpochResult] = field(default_factory=list)
    # 1-based epoch whose weights were kept; 0 for models without epochs.
    best_epoch: int = 0
    # The spec with what training decided from the data (e.g. a statistical model's
    # seasons), or None when nothing was decided.
    effective_params: ModelParams | None = None

    def predict(
        self, x: np.ndarray, future: np.ndarray | None = None, history: HistoryWindows | None = None
    ) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs), float32, for input windows x."""
        return self.predictor.predict(x, future, history)


def train_model(
    model: ResolvedModel,
    data: TrainingData,
    reporter: ProgressReporter,
    *,
    threads: int | None = None,
    deadline: float | None = None,
) -> TrainedModel:
    """Train `model` on `data`, reporting progress to `reporter`.

    Keras models report every epoch and, about once a second, batch progress; they
    check reporter.should_stop() after every batch. scikit-learn models check it
    before every sub-model (each SVR), LightGBM after every boosting round. Raises
    TrainingCancelled when it turns true, and ValueError when the model does not fit the
    data (e.g. a CNN kernel longer than the input window, a statistical model without a
    grid). `deadline` (time.monotonic()) ends Keras and LightGBM fits early with their
    best weights so far; `threads` bounds LightGBM's threads. Ensembles are made by
    tsforge.forecasting.estimators.ensemble from their members' results.
    """
    params = model.params
    if model.kind.is_keras:
        kernel_size = getattr(params, "kernel_size", 1)
        if kernel_size > data.input_steps:
            raise ValueError(f"kernel_size {kernel_size} exceeds input_steps {data.input_steps}")
        from tsforge.forecasting.estimators import keras_models, keras_training

        fit = keras_training.fit_keras(cast(KerasSpec, params), model.seed, data, reporter, deadline)
        return TrainedModel(
            keras_models.to_bytes(fit.model),
            ArtifactFormat.KERAS,
            keras_models.KerasPredictor(fit.model),
            fit.history,
            fit.best_epoch,
        )
    if model.kind.is_statistical:
        from tsforge.forecasting.estimators import statistical

        forecaster = statistical.fit_statistical(cast(StatisticalModelSpec, params), data, reporter.should_stop)
        return TrainedModel(
            statistical.to_bytes(forecaster), ArtifactFormat.JOBLIB, forecaster, effective_params=forecaster.spec
        )
    if model.kind.value == "lightgbm":
        from tsforge.forecasting.estimators import lightgbm_models

        booster = lightgbm_models.fit_lightgbm(
            cast(LightGbmSpec, params), model.seed, data, reporter.should_stop, threads, deadline
        )
        return TrainedModel(lightgbm_models.to_bytes(booster), ArtifactFormat.LIGHTGBM, booster)
    if not model.kind.is_sklearn:
        raise ValueError(f"{model.kind.value} models are not trained by train_model")

    from tsforge.forecasting.estimators import sklearn_models

    regressor = sklearn_models.fit_sklearn(
        cast(sklearn_models.SklearnSpec, params),
        data.x_train,
        data.y_train,
        reporter.should_stop,
        future=data.future_train,
    )
    return TrainedModel(sklearn_models.to_bytes(regressor), ArtifactFormat.JOBLIB, regressor)


def load_model(artifact: bytes, format: str) -> Predictor:
    """A predictor from an artifact written by train_model (or an ensemble's), in this
    or any other process.

    Raises ValueError for an unknown format or an artifact that is not a model.
    """
    artifact_format = ArtifactFormat(format)
    if artifact_format is ArtifactFormat.KERAS:
        from tsforge.forecasting.estimators import keras_models

        return keras_models.KerasPredictor(keras_models.from_bytes(artifact))
    if artifact_format is ArtifactFormat.LIGHTGBM:
        from tsforge.forecasting.estimators import lightgbm_models

        return lightgbm_models.from_bytes(artifact)
    if artifact_format is ArtifactFormat.ENSEMBLE:
        from tsforge.forecasting.estimators import ensemble

        return ensemble.from_bytes(artifact, load_model)
    from tsforge.forecasting.estimators import sklearn_models

    loaded = sklearn_models.load_joblib(artifact)
    if type(loaded).__name__ == "StatisticalForecaster":
        return loaded
    return sklearn_models.checked(loaded)


def needs_history(predictor: Predictor) -> bool:
    """Whether a loaded predictor reads the output history (statistical models and
    ensembles of them)."""
    return bool(getattr(predictor, "needs_history", False))
