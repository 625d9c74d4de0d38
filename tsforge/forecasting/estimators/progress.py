"""What training tells the outside world while it runs, and how it is told to stop."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from google.protobuf import duration_pb2

from tsforge.training.v1 import training_resources_pb2 as pb

# BatchProgress is documented as "at most about once a second per model".
BATCH_REPORT_INTERVAL_SECONDS = 1.0


class TrainingCancelled(Exception):
    """Training stopped early because the reporter asked it to (the run was cancelled)."""


@dataclass(frozen=True)
class EpochResult:
    """One finished epoch of a Keras model; losses are MSE in scaled units."""

    epoch: int  # 1-based
    loss: float
    val_loss: float | None
    rmse: float
    val_rmse: float | None
    duration_seconds: float

    def to_proto(self) -> pb.EpochMetrics:
        metrics = pb.EpochMetrics(epoch=self.epoch, loss=self.loss, rmse=self.rmse, duration=duration_pb2.Duration())
        metrics.duration.FromNanoseconds(round(self.duration_seconds * 1e9))
        if self.val_loss is not None:
            metrics.val_loss = self.val_loss
        if self.val_rmse is not None:
            metrics.val_rmse = self.val_rmse
        return metrics


class ProgressReporter(Protocol):
    """Receives a model's progress; implemented by the worker (run events, cancel flag)."""

    def epoch_end(self, metrics: EpochResult, total_epochs: int) -> None:
        """Called once per finished epoch; total_epochs is the configured number."""

    def batch(self, epoch: int, batch: int, total_batches: int, loss: float) -> None:
        """Progress inside an epoch (1-based epoch, batches done, running mean loss).

        Throttled by the trainer to about once a second per model.
        """

    def should_stop(self) -> bool:
        """True once the run is cancelled. Called after every batch and between
        scikit-learn sub-models, so it must be cheap (e.g. read a flag or an Event)."""


class NullReporter:
    """A reporter that listens to nothing and never stops training."""

    def epoch_end(self, metrics: EpochResult, total_epochs: int) -> None:
        pass

    def batch(self, epoch: int, batch: int, total_batches: int, loss: float) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class BatchThrottle:
    """Lets a batch report through at most once per interval (the first one at once)."""

    def __init__(
        self, interval_seconds: float = BATCH_REPORT_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._last = -math.inf

    def ready(self) -> bool:
        now = self.clock()
        if now - self._last < self.interval_seconds:
            return False
        self._last = now
        return True
