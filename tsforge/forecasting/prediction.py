"""Forecasts from a trained model on new series, cut exactly as its dataset was built:
the same feature, window and calendar specs, the same resampling (input_windows) and
the training split's scalers. Two halves around the model's own predict, so a caller
can check the inputs before it pays for loading the model:

    references, x = prediction_inputs(spec, scalers, features, references, gap_tolerance)
    forecasts = forecasts_from(spec, scalers, references, model.predict(x))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from tsforge.forecasting.protos import calendar_spec, feature_spec, window_spec
from tsforge.forecasting.scaling import MinMaxScalers
from tsforge.forecasting.windowing import Feature, WindowSpec, input_windows, window_edges
from tsforge.training.v1 import training_resources_pb2 as tr

_NS_PER_MINUTE = 60 * 10**9


@dataclass(frozen=True)
class Forecasts:
    """values[i, k, j]: output feature j at step k + 1 from reference_times[i] (int64 ns),
    for the instant reference_times[i] + offsets[j, k]; original units."""

    reference_times: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    output_names: tuple[str, ...]


def prediction_inputs(
    spec: tr.DatasetSpec,
    scalers: MinMaxScalers,
    features: Sequence[Feature],
    references: np.ndarray | None,
    gap_tolerance: timedelta | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(reference times as int64 ns, scaled input windows X) for the given reference
    times, or for the latest one the inputs allow when none is given.

    `features` are the spec's inputs, in order, with their raw series. Raises
    UncoveredWindow (a feature lacks data for a window), ValueError (malformed input, a
    feature without values).
    """
    window = window_spec(spec.window)
    if references is None or len(references) == 0:
        references = np.array([latest_reference(features, window)], dtype=np.int64)
    references = np.asarray(references, dtype=np.int64)
    x = input_windows(features, window, references, gap_tolerance, calendar_spec(spec.calendar))
    scalers.transform_inputs(x, copy=False)
    return references, x


def forecasts_from(
    spec: tr.DatasetSpec, scalers: MinMaxScalers, references: np.ndarray, scaled: np.ndarray
) -> Forecasts:
    """The model's scaled output windows (n, output_steps, n_outputs) as forecasts in
    original units, with each step's offset from its reference time."""
    values = scalers.inverse_transform_outputs(scaled, copy=False)
    return Forecasts(references, values, output_offsets(spec), tuple(o.feature for o in spec.outputs))


def output_offsets(spec: tr.DatasetSpec) -> np.ndarray:
    """(n_outputs, output_steps) int64 ns: where each output step lies after the reference time."""
    steps = spec.window.output_steps
    return np.stack([window_edges(feature_spec(o), steps)[1:] for o in spec.outputs])


def latest_reference(features: Sequence[Feature], window: WindowSpec) -> int:
    """The latest reference time on the window's grid whose input windows end within
    every input's data. Raises ValueError when a feature has no values."""
    latest = None
    for feature in features:
        values = np.asarray(feature.series.values, dtype=np.float64)
        times = np.asarray(feature.series.times)[np.isfinite(values)].astype("datetime64[ns]").view(np.int64)
        if len(times) == 0:
            raise ValueError(f"input feature {feature.spec.name!r} has no values")
        end = int(times.max()) - int(window_edges(feature.spec, window.input_steps)[-1])
        latest = end if latest is None else min(latest, end)
    assert latest is not None, "at least one input feature"
    step, offset = window.step_minutes * _NS_PER_MINUTE, window.offset_minutes * _NS_PER_MINUTE
    return latest - (latest - offset) % step
