"""Forecasts from a trained model on new series, cut exactly as its dataset was built:
the same feature, window, lag and calendar specs, the same resampling (input_windows,
future_windows, target_history) and the training split's scalers. Two halves around the
model's own predict, so a caller can check the inputs before it pays for loading the
model:

    inputs = prediction_inputs(spec, scalers, series, references, gap_tolerance, needs_history)
    forecasts = forecasts_from(spec, scalers, inputs.references, model.predict(*inputs.model_arguments()))

`series` maps the names of required_series(spec, needs_history) to raw series: the
input features by name, each lag's source (tsforge.forecasting.protos.lag_source_name)
and, for models that forecast from the outputs' own past, the output features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from tsforge.forecasting.intervals import ConformalIntervals
from tsforge.forecasting.protos import (
    calendar_spec,
    feature_spec,
    future_calendar_spec,
    lag_source_name,
    lag_window_spec,
    window_spec,
)
from tsforge.forecasting.scaling import MinMaxScalers
from tsforge.forecasting.target_history import HistoryWindows, target_history
from tsforge.forecasting.windowing import (
    Feature,
    Series,
    WindowSpec,
    future_windows,
    input_windows,
    window_edges,
)
from tsforge.training.v1 import training_resources_pb2 as tr

_NS_PER_MINUTE = 60 * 10**9


@dataclass(frozen=True)
class Forecasts:
    """values[i, k, j]: output feature j at step k + 1 from reference_times[i] (int64 ns),
    for the instant reference_times[i] + offsets[j, k]; original units. lower/upper
    (n, levels, output_steps, n_outputs): the central intervals at `levels`, or None."""

    reference_times: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    output_names: tuple[str, ...]
    levels: tuple[float, ...] = ()
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


@dataclass(frozen=True)
class ModelInputs:
    """What a model predicts from, scaled: reference times (int64 ns), X, the future
    window, and the output history (None unless asked for)."""

    references: np.ndarray
    x: np.ndarray
    future: np.ndarray
    history: HistoryWindows | None

    def model_arguments(self) -> tuple[np.ndarray, np.ndarray, HistoryWindows | None]:
        return self.x, self.future, self.history


def required_series(spec: tr.DatasetSpec, needs_history: bool = False) -> list[str]:
    """The names of the series prediction_inputs needs, in order, each once."""
    names = [f.feature for f in spec.inputs]
    names += [lag_source_name(spec, lag) for lag in spec.lags]
    if needs_history:
        names += [f.feature for f in spec.outputs]
    return list(dict.fromkeys(names))


def prediction_inputs(
    spec: tr.DatasetSpec,
    scalers: MinMaxScalers,
    series: Mapping[str, Series],
    references: np.ndarray | None,
    gap_tolerance: timedelta | None,
    needs_history: bool = False,
) -> ModelInputs:
    """The scaled model inputs for the given reference times, or for the latest one the
    series allow when none is given.

    Raises KeyError naming a required series that is missing, UncoveredWindow (a series
    lacks data for a window), ValueError (malformed input, a series without values).
    """
    window = window_spec(spec.window)
    inputs = [Feature(feature_spec(f), series[f.feature]) for f in spec.inputs]
    lags = [Feature(lag_window_spec(spec, lag), series[lag_source_name(spec, lag)]) for lag in spec.lags]
    if references is None or len(references) == 0:
        references = np.array([latest_reference(inputs, window, lags)], dtype=np.int64)
    references = np.asarray(references, dtype=np.int64)
    x = input_windows(inputs, window, references, gap_tolerance, calendar_spec(spec.calendar))
    scalers.transform_inputs(x, copy=False)
    first_output = feature_spec(spec.outputs[0])
    future = future_windows(lags, first_output, window, references, gap_tolerance, future_calendar_spec(spec))
    scalers.transform_future(future, copy=False)
    history = output_history_at(spec, scalers, series, references, gap_tolerance) if needs_history else None
    return ModelInputs(references, x, future, history)


def output_history_at(
    spec: tr.DatasetSpec,
    scalers: MinMaxScalers,
    series: Mapping[str, Series],
    references: np.ndarray,
    gap_tolerance: timedelta | None,
) -> HistoryWindows:
    """The output features' scaled history grid at the reference times (for models that
    forecast from it). Raises KeyError (an output series missing), ValueError (no grid)."""
    outputs = [Feature(feature_spec(f), series[f.feature]) for f in spec.outputs]
    grid = target_history(outputs, window_spec(spec.window), gap_tolerance)
    return grid.scaled(lambda values: scalers.transform_outputs(values, copy=False)).at(references)


def forecasts_from(
    spec: tr.DatasetSpec,
    scalers: MinMaxScalers,
    references: np.ndarray,
    scaled: np.ndarray,
    intervals: ConformalIntervals | None = None,
) -> Forecasts:
    """The model's scaled output windows (n, output_steps, n_outputs) as forecasts in
    original units, with each step's offset from its reference time and, given the
    model's intervals, their bounds."""
    values = scalers.inverse_transform_outputs(scaled, copy=False)
    names = tuple(o.feature for o in spec.outputs)
    if intervals is None or not intervals.levels:
        return Forecasts(references, values, output_offsets(spec), names)
    lower, upper = intervals.bounds(values)
    return Forecasts(references, values, output_offsets(spec), names, intervals.levels, lower, upper)


def output_offsets(spec: tr.DatasetSpec) -> np.ndarray:
    """(n_outputs, output_steps) int64 ns: where each output step lies after the reference time."""
    steps = spec.window.output_steps
    return np.stack([window_edges(feature_spec(o), steps)[1:] for o in spec.outputs])


def latest_reference(features: Sequence[Feature], window: WindowSpec, lags: Sequence[Feature] = ()) -> int:
    """The latest reference time on the window's grid whose input (and lag) windows end
    within every series' data. Raises ValueError when a feature has no values."""
    latest = None
    windows: list[tuple[Feature, int]] = [(f, window.input_steps) for f in features]
    windows += [(f, window.output_steps) for f in lags]
    for feature, steps in windows:
        end = _last_time(feature) - int(window_edges(feature.spec, steps)[-1])
        latest = end if latest is None else min(latest, end)
    assert latest is not None, "at least one input feature"
    step, offset = window.step_minutes * _NS_PER_MINUTE, window.offset_minutes * _NS_PER_MINUTE
    return latest - (latest - offset) % step


def _last_time(feature: Feature) -> int:
    values = np.asarray(feature.series.values, dtype=np.float64)
    times = np.asarray(feature.series.times)[np.isfinite(values)].astype("datetime64[ns]").view(np.int64)
    if len(times) == 0:
        raise ValueError(f"series {feature.spec.name!r} has no values")
    return int(times.max())
