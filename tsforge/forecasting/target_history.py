"""The output features' own past on one regular grid, for models that forecast a series
from its history (the statistical models).

The grid's step is the output step width Δ = (end - start) / output_steps, the same for
every output feature, and its instants are those t with t ≡ offset (mod Δ), the
reference times' alignment, so that every reference time and (when the output horizon
starts at a multiple of Δ) every output step lies on it. The value at grid instant t is
the feature resampled exactly as an output window point at t (a one-point window
(t - Δ, t] by the feature's method and gap tolerance): the values a statistical model
fits and forecasts are the very targets the other models see. An instant the file does
not cover is NaN.

`grid_problem` says why a dataset's outputs have no such grid (then statistical models
cannot be trained on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from tsforge.forecasting.windowing import Feature, FeatureSpec, WindowSpec, _resampler, window_edges

_NS_PER_MINUTE = 60 * 10**9
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


@dataclass(frozen=True)
class TargetHistory:
    """values[m, j]: output feature j at start + m * step (int64 ns); NaN where missing.
    `lead`: grid steps from a reference time to the output horizon's start (output
    point k lies lead + k steps after the reference time)."""

    start: int
    step: int
    values: np.ndarray
    lead: int = 0

    def scaled(self, transform) -> TargetHistory:
        """The same grid with values mapped by `transform` (e.g. the output scalers')."""
        return replace(self, values=transform(self.values.copy()))

    def index(self, instant: int) -> int:
        """Position of a grid instant (may lie outside the grid: < 0 or >= len)."""
        return (int(instant) - self.start) // self.step

    def window(self, reference: int, length: int) -> np.ndarray:
        """(length, n_outputs) float64: the values at reference - (length - 1) * step ..
        reference, oldest first; NaN where the grid has no value."""
        end = self.index(reference) + 1
        begin = end - length
        result = np.full((length, self.values.shape[1]), np.nan)
        low, high = max(begin, 0), min(end, len(self.values))
        if low < high:
            result[low - begin : high - begin] = self.values[low:high]
        return result

    def until(self, instant: int) -> np.ndarray:
        """(points, n_outputs): every value at or before `instant`."""
        return self.values[: max(0, min(len(self.values), self.index(instant) + 1))]

    def at(self, references: np.ndarray) -> HistoryWindows:
        return HistoryWindows(self, np.asarray(references, dtype=np.int64))


@dataclass(frozen=True)
class HistoryWindows:
    """A TargetHistory and the reference time of every window a model forecasts."""

    history: TargetHistory
    references: np.ndarray


def grid_problem(outputs: Sequence[FeatureSpec], window: WindowSpec) -> str | None:
    """Why these outputs have no common grid holding every reference time and output
    step, or None when they have one (see the module docstring)."""
    steps = {_step_ns(spec, window.output_steps) for spec in outputs}
    if len(steps) > 1:
        return "the output features have different step widths"
    step = steps.pop()
    if step <= 0:
        return "the output step width is not positive"
    if (window.step_minutes * _NS_PER_MINUTE) % step:
        return f"step_minutes ({window.step_minutes}) is not a multiple of the output step width ({step / 6e10:g} min)"
    for spec in outputs:
        start = round(spec.start_hours * _NS_PER_HOUR)
        if start < 0 or start % step:
            return f"output {spec.name!r} starts at {spec.start_hours:g} h, not a multiple >= 0 of its step"
    return None


def grid_step(outputs: Sequence[FeatureSpec], window: WindowSpec) -> int:
    """The output step width in ns. Raises ValueError when grid_problem finds one."""
    problem = grid_problem(outputs, window)
    if problem is not None:
        raise ValueError(f"the outputs have no regular grid for statistical models: {problem}")
    return _step_ns(outputs[0], window.output_steps)


def target_history(
    outputs: Sequence[Feature], window: WindowSpec, gap_tolerance: timedelta | None = None
) -> TargetHistory:
    """The outputs' values on their grid, from the earliest to the latest raw time of
    any of them, in original units. Raises ValueError when there is no grid (see
    grid_problem) or a series is malformed."""
    specs = [feature.spec for feature in outputs]
    step = grid_step(specs, window)
    offset = window.offset_minutes * _NS_PER_MINUTE
    spans = [_span(feature) for feature in outputs]
    first = min(low for low, _ in spans)
    last = max(high for _, high in spans)
    start = first + (offset - first) % step
    count = max(0, (last - start) // step + 1)
    grid = start + step * np.arange(count, dtype=np.int64)
    values = np.full((count, len(outputs)), np.nan)
    for column, feature in enumerate(outputs):
        # One point at each grid instant t: the window (t - step, t], as output point k.
        point = replace(feature.spec, start_hours=-step / _NS_PER_HOUR, end_hours=0.0)
        resampler = _resampler(Feature(point, feature.series), 1, 0, gap_tolerance, step_ns=step)
        covered = resampler.covers(grid, max(1, len(grid)))
        if covered.any():
            values[covered, column] = np.asarray(resampler.resample(grid, covered))[:, 0]
    lead = round(specs[0].start_hours * _NS_PER_HOUR) // step
    return TargetHistory(int(start), int(step), values, int(lead))


def _step_ns(spec: FeatureSpec, output_steps: int) -> int:
    edges = window_edges(spec, output_steps)
    widths = np.diff(edges)
    return int(widths[0]) if (widths == widths[0]).all() else -1


def _span(feature: Feature) -> tuple[int, int]:
    values = np.asarray(feature.series.values, dtype=np.float64)
    times = np.asarray(feature.series.times)[np.isfinite(values)].astype("datetime64[ns]").view(np.int64)
    if len(times) == 0:
        raise ValueError(f"output feature {feature.spec.name!r} has no values")
    return int(times[0]), int(times[-1])
