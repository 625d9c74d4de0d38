"""Fitting a Keras model: seeding, early stopping, progress reports and cancellation."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras

from tsforge.forecasting.estimators.keras_models import build_model, model_inputs, seed_everything
from tsforge.forecasting.estimators.progress import BatchThrottle, EpochResult, ProgressReporter, TrainingCancelled
from tsforge.forecasting.estimators.specs import KerasSpec


@dataclass
class KerasFit:
    model: keras.Model
    history: list[EpochResult]
    best_epoch: int  # 1-based epoch whose weights the model holds


class _ProgressCallback(keras.callbacks.Callback):
    """Turns Keras callbacks into reporter calls; raises TrainingCancelled on request."""

    def __init__(self, reporter: ProgressReporter, total_epochs: int, total_batches: int, throttle: BatchThrottle):
        super().__init__()
        self.reporter = reporter
        self.total_epochs = total_epochs
        self.total_batches = total_batches
        self.throttle = throttle
        self.history: list[EpochResult] = []
        self._epoch = 0
        self._epoch_started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # Raising here leaves fit() at once: the rest of the epoch is not trained.
        if self.reporter.should_stop():
            raise TrainingCancelled(f"cancelled in epoch {self._epoch} after batch {batch + 1}")
        if self.throttle.ready():
            # Keras logs the running mean loss of the epoch so far.
            self.reporter.batch(self._epoch, batch + 1, self.total_batches, float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        val_loss = logs.get("val_loss")
        val_rmse = logs.get("val_rmse")
        result = EpochResult(
            epoch=epoch + 1,
            loss=float(logs["loss"]),
            val_loss=None if val_loss is None else float(val_loss),
            rmse=float(logs["rmse"]),
            val_rmse=None if val_rmse is None else float(val_rmse),
            duration_seconds=time.perf_counter() - self._epoch_started,
        )
        self.history.append(result)
        self.reporter.epoch_end(result, self.total_epochs)


class _Deadline(keras.callbacks.Callback):
    """Ends training after the epoch during which the deadline (time.monotonic()) passed."""

    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def fit_keras(spec: KerasSpec, seed: int, data, reporter: ProgressReporter, deadline: float | None = None) -> KerasFit:
    """Build, seed and train the network of `spec` on scaled windows (a TrainingData).

    With validation samples, early stopping watches val_loss with the spec's patience
    and the best epoch's weights are restored; without them every epoch runs and the
    last one's weights are kept. A deadline ends training after the epoch it falls in
    (with the best weights so far). Raises TrainingCancelled when reporter.should_stop()
    turns true (checked after every batch).
    """
    neural = spec.neural
    x_train, y_train, x_val, y_val = data.x_train, data.y_train, data.x_val, data.y_val
    # A worker trains model after model: drop Keras's global state (layer name
    # counters, cached graphs) of the ones before. Models already returned keep working.
    keras.backend.clear_session()
    seed_everything(seed)
    n_future = data.n_future
    model = build_model(spec, x_train.shape[1], x_train.shape[2], y_train.shape[1], y_train.shape[2], n_future)
    progress = _ProgressCallback(reporter, neural.epochs, math.ceil(len(x_train) / neural.batch_size), BatchThrottle())
    callbacks: list[keras.callbacks.Callback] = [progress]
    if deadline is not None:
        callbacks.append(_Deadline(deadline))
    early_stopping = None
    has_validation = len(x_val) > 0
    if has_validation:
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=neural.early_stopping_patience, restore_best_weights=True
        )
        callbacks.append(early_stopping)
    model.fit(
        model_inputs(x_train, data.future_train, n_future),
        y_train,
        batch_size=neural.batch_size,
        epochs=neural.epochs,
        validation_data=(model_inputs(x_val, data.future_val, n_future), y_val) if has_validation else None,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    if early_stopping is not None and early_stopping.best_weights is not None:
        best_epoch = early_stopping.best_epoch + 1
    else:
        best_epoch = len(progress.history)
    return KerasFit(model, progress.history, best_epoch)
