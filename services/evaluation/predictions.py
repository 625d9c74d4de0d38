"""A model's stored predictions on one split, read from the training service into arrays.

Evaluation learns about runs only through training's RPCs (GetRun, GetDataset,
ReadPredictions, DownloadDatasetObject); `TrainingSource` is that surface, which
tsforge.core.clients.TrainingClient implements and tests may fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tsforge.core.errors import Unavailable
from tsforge.forecasting.scaling import FeatureScaler
from tsforge.training.v1 import training_resources_pb2 as tr


class TrainingSource(Protocol):
    """What evaluation asks the training service, as the tenant. Every method raises
    NotFound for a missing (or another tenant's) resource and Unavailable when the
    service cannot be reached."""

    def get_run(self, tenant: str, name: str) -> tr.Run: ...

    def get_dataset(self, tenant: str, name: str) -> tr.Dataset: ...

    def read_predictions(
        self, tenant: str, name: str, split: int, history_steps: int = 0
    ) -> tuple[tr.PredictionsHeader, Iterator[tr.PredictionsChunk]]: ...

    def read_dataset_object(self, tenant: str, dataset: str, object_id: str) -> bytes: ...


@dataclass(frozen=True)
class OutputFeature:
    name: str
    step_minutes: float  # the width of one forecast step: the horizon over output_steps
    horizon_start_minutes: float  # where step k lies: reference time + start + k · step_minutes
    scaler: FeatureScaler  # training's own scaler: one implementation of the scaling


@dataclass(frozen=True)
class SplitPredictions:
    """One model's rows of one split, ordered by reference time. Value arrays have shape
    (n, output_steps, n_features); history (n, history_steps, n_features), original units,
    newest first, NaN where the data does not reach back, None when not asked for.
    Prediction intervals: lower and upper (n, n_levels, output_steps, n_features),
    original units, for the nominal levels interval_levels (ascending); None and () when
    the model has none."""

    features: tuple[OutputFeature, ...]
    reference_times: np.ndarray  # int64 seconds since the epoch, UTC
    predicted: np.ndarray
    actual: np.ndarray
    predicted_scaled: np.ndarray
    actual_scaled: np.ndarray
    history: np.ndarray | None
    interval_levels: tuple[float, ...] = ()
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    def bounds(self, scaled: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """(lower, upper) in original or scaled units; None without intervals. Scalers
        are increasing, so scaled bounds still bound the scaled actuals."""
        if self.lower is None or self.upper is None:
            return None
        if not scaled:
            return self.lower, self.upper
        return self._scaled(self.lower), self._scaled(self.upper)

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        scaled = np.empty_like(values)
        for f, feature in enumerate(self.features):
            scaled[..., f] = feature.scaler.transform(values[..., f])
        return scaled

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    def history_scaled(self) -> np.ndarray | None:
        """history in scaled units, each feature through its scaler."""
        if self.history is None:
            return None
        scaled = np.empty_like(self.history)
        for f, feature in enumerate(self.features):
            scaled[..., f] = feature.scaler.transform(self.history[..., f])
        return scaled


def read_split(source: TrainingSource, tenant: str, model: str, split: int, history_steps: int = 0) -> SplitPredictions:
    """Every row of `model`'s predictions on `split` ("runs/{run}/models/{model}").

    Raises what the source raises, and Unavailable when the stream ends short.
    """
    header, chunks = source.read_predictions(tenant, model, split, history_steps)
    n, steps, width = header.row_count, header.output_steps, len(header.features)
    history_steps = header.history_steps if history_steps else 0
    arrays = {
        key: np.full((n, steps, width), np.nan) for key in ("predicted", "actual", "predicted_scaled", "actual_scaled")
    }
    history = np.full((n, history_steps, width), np.nan) if history_steps else None
    levels = tuple(header.interval_levels)
    bounds: dict[str, np.ndarray] = (
        {key: np.full((n, len(levels), steps, width), np.nan) for key in ("lower", "upper")} if levels else {}
    )
    times = np.zeros(n, dtype=np.int64)
    row = 0
    for chunk in chunks:
        count = len(chunk.reference_times)
        rows = slice(row, row + count)
        times[rows] = [stamp.seconds for stamp in chunk.reference_times]
        for key, values in arrays.items():
            values[rows] = np.asarray(getattr(chunk, key), dtype=np.float64).reshape(count, steps, width)
        if history is not None:
            history[rows] = np.asarray(chunk.history, dtype=np.float64).reshape(count, history_steps, width)
        for key, values in bounds.items():
            values[rows] = np.asarray(getattr(chunk, key), dtype=np.float64).reshape(count, len(levels), steps, width)
        row += count
    if row != n:
        raise Unavailable(f"the predictions of {model} ended after {row} of {n} rows")
    return SplitPredictions(
        tuple(_feature(f, steps) for f in header.features),
        times,
        history=history,
        interval_levels=levels,
        **arrays,
        **bounds,
    )


def _feature(message: tr.OutputFeature, steps: int) -> OutputFeature:
    hours = message.horizon.end - message.horizon.start
    scaler = message.scaler
    return OutputFeature(
        name=message.feature,
        step_minutes=hours * 60 / steps if steps else 0.0,
        horizon_start_minutes=message.horizon.start * 60,
        scaler=FeatureScaler(
            scaler.feature, scaler.data_min, scaler.data_max, scaler.data_mean, scaler.range.min, scaler.range.max
        ),
    )
