"""One entry point to train any of the seven model types, and one to load what it saved.

Importing this module imports neither TensorFlow nor scikit-learn: each is imported
when a model of its kind is first trained or loaded, so a worker that only fits SVRs
never pays TensorFlow's start-up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.estimators.progress import EpochResult, ProgressReporter, TrainingCancelled
from tsforge.forecasting.estimators.specs import ResolvedModel

__all__ = [
    "ArtifactFormat",
    "Predictor",
    "TrainedModel",
    "TrainingCancelled",
    "TrainingData",
    "load_model",
    "train_model",
]


class ArtifactFormat(enum.StrEnum):
    """Native format of a trained model's artifact."""

    KERAS = "keras"  # the bytes of a `.keras` file
    JOBLIB = "joblib"  # a joblib pickle of a scikit-learn WindowRegressor

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


@dataclass
class TrainingData:
    """Scaled sample windows: x (n, input_steps, n_inputs) → y (n, output_steps, n_outputs).

    The validation split may be empty (or None): then there is no early stopping and no
    validation metric. Arrays are converted to contiguous float32. Raises ValueError
    when shapes disagree.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self):
        self.x_train = _windows("x_train", self.x_train)
        self.y_train = _windows("y_train", self.y_train)
        self.x_val = _windows("x_val", self.x_val, self.x_train)
        self.y_val = _windows("y_val", self.y_val, self.y_train)
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

    @property
    def input_steps(self) -> int:
        return self.x_train.shape[1]

    @property
    def has_validation(self) -> bool:
        return len(self.x_val) > 0


class Predictor(Protocol):
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs) for input windows (n, input_steps, n_inputs)."""


@dataclass(frozen=True)
class TrainedModel:
    """A trained model: its artifact to store, its history, and a predictor to use now."""

    artifact: bytes
    artifact_format: ArtifactFormat
    predictor: Predictor
    # Per-epoch results; empty for scikit-learn models.
    history: list[EpochResult] = field(default_factory=list)
    # 1-based epoch whose weights were kept; 0 for scikit-learn models.
    best_epoch: int = 0

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs), float32, for input windows x."""
        return self.predictor.predict(x)


def train_model(model: ResolvedModel, data: TrainingData, reporter: ProgressReporter) -> TrainedModel:
    """Train `model` on `data`, reporting progress to `reporter`.

    Keras models report every epoch and, about once a second, batch progress; they
    check reporter.should_stop() after every batch. scikit-learn models check it
    before every sub-model (each SVR). Raises TrainingCancelled when it turns true,
    and ValueError when the model does not fit the data (e.g. a CNN kernel longer
    than the input window).
    """
    params = model.params
    if model.kind.is_keras:
        kernel_size = getattr(params, "kernel_size", 1)
        if kernel_size > data.input_steps:
            raise ValueError(f"kernel_size {kernel_size} exceeds input_steps {data.input_steps}")
        from tsforge.forecasting.estimators import keras_models, keras_training

        fit = keras_training.fit_keras(params, model.seed, data.x_train, data.y_train, data.x_val, data.y_val, reporter)
        return TrainedModel(
            keras_models.to_bytes(fit.model),
            ArtifactFormat.KERAS,
            keras_models.KerasPredictor(fit.model),
            fit.history,
            fit.best_epoch,
        )

    from tsforge.forecasting.estimators import sklearn_models

    regressor = sklearn_models.fit_sklearn(params, data.x_train, data.y_train, reporter.should_stop)
    return TrainedModel(sklearn_models.to_bytes(regressor), ArtifactFormat.JOBLIB, regressor)


def load_model(artifact: bytes, format: str) -> Predictor:
    """A predictor from an artifact written by train_model, in this or any other process.

    Raises ValueError for an unknown format or an artifact that is not a model.
    """
    artifact_format = ArtifactFormat(format)
    if artifact_format is ArtifactFormat.KERAS:
        from tsforge.forecasting.estimators import keras_models

        return keras_models.KerasPredictor(keras_models.from_bytes(artifact))
    from tsforge.forecasting.estimators import sklearn_models

    return sklearn_models.from_bytes(artifact)
