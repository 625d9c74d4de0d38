"""Past values of the output features at and before each sample's reference time, for
naive baselines: resampled from the raw files with the dataset's own resampling code.

The value h steps back from reference time t is what a window of one point at
t − h·w would hold (w the feature's step width: its horizon over output_steps), under
the same rule as build_windows: a LINEAR or NEAREST point needs data around it, a MEAN
point data in the interval (t − (h + 1)·w, t − h·w], and no gap may touch either. Each
past value is present or NaN on its own, as float32 like the windows' own values, so a
naive forecast of a value the windows also hold reproduces it exactly.

Speed: every instant t − h·w lies on one lattice of spacing g, the greatest common
divisor of w and the spacing of the reference times, so each distinct instant is
resampled once (O(lattice + n × history_steps)), not once per sample and step. A step
width that is not a whole number of nanoseconds, or a lattice too large for memory,
falls back to one pass per step back over the grid of the reference times (as the
windowing itself would cut one-point windows there). `windowing._clean` is reused so
that a raw point is present or missing here exactly as it is in the windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from tsforge.forecasting.resampling import FeatureResampler, ResamplingMethod
from tsforge.forecasting.windowing import Feature, _clean
from tsforge.training.v1 import training_resources_pb2 as tr

_NS_PER_SECOND = 10**9
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 3_600 * _NS_PER_SECOND
# Largest lattice resampled at once (float64 values and a mask: ~72 MiB).
_MAX_LATTICE = 1 << 23
# Rows gathered from the lattice at a time: bounds the index temporaries.
_ROWS_PER_BLOCK = 4096


def output_history(
    outputs: list[Feature], dataset: tr.Dataset, reference_seconds: np.ndarray, history_steps: int
) -> np.ndarray:
    """(n, history_steps, n_outputs) float64, newest first: h = 0 is the value at the
    reference time, h = k the value k of the feature's step widths earlier (its horizon
    divided by output_steps). NaN where the file has no data that early (or a gap).

    `outputs` are the dataset's output features with their raw series, in order.
    """
    window = dataset.spec.window
    gap = dataset.gap_tolerance.ToTimedelta() if dataset.HasField("gap_tolerance") else None
    gap = gap if gap is None or gap > timedelta(0) else None
    result = np.full((len(reference_seconds), history_steps, len(outputs)), np.nan)
    if len(reference_seconds) == 0 or history_steps == 0:
        return result
    wanted = np.asarray(reference_seconds, dtype=np.int64) * _NS_PER_SECOND
    # The spacing of the reference times: they lie on the window's grid.
    grid_spacing = math.gcd(window.step_minutes * _NS_PER_MINUTE, int(np.gcd.reduce(wanted - wanted.min())))
    for column, feature in enumerate(outputs):
        try:
            times, values = _clean(feature)
        except ValueError:
            continue  # no numeric values at all: every past value is missing
        if gap is None:  # as windowing does: 1.5 median steps of the series
            tolerance = int(1.5 * np.median(np.diff(times))) if len(times) > 1 else 0
        else:
            tolerance = gap // timedelta(microseconds=1) * 1000
        points = _Points(times, values, feature.spec.method, tolerance)
        # The horizon in whole nanoseconds, as windowing.window_edges places the steps.
        horizon_ns = round(feature.spec.end_hours * _NS_PER_HOUR) - round(feature.spec.start_hours * _NS_PER_HOUR)
        out = result[..., column]
        if horizon_ns % window.output_steps == 0:
            width_ns = horizon_ns // window.output_steps
            if points.lattice_history(wanted, width_ns, math.gcd(width_ns, grid_spacing), out):
                continue
        width_hours = (feature.spec.end_hours - feature.spec.start_hours) / window.output_steps
        points.stepwise_history(wanted, width_hours, grid_spacing, out)
    return result


@dataclass(frozen=True)
class _Points:
    """One feature's cleaned raw points and resampling rule."""

    times: np.ndarray
    values: np.ndarray
    method: ResamplingMethod
    tolerance_ns: int

    def lattice_history(self, wanted: np.ndarray, width_ns: int, spacing: int, out: np.ndarray) -> bool:
        """Fills out (n, history_steps) from one lattice of spacing `spacing`, which
        divides the step width and the reference times' spacing; False (nothing written)
        when the lattice would exceed _MAX_LATTICE points."""
        history_steps = out.shape[1]
        base = int(wanted.min()) - (history_steps - 1) * width_ns
        size = (int(wanted.max()) - base) // spacing + 1
        if size > _MAX_LATTICE:
            return False
        lattice = base + spacing * np.arange(size, dtype=np.int64)
        points = self._one_point_windows(np.array([-width_ns, 0], dtype=np.int64), lattice, spacing)
        back = (width_ns // spacing) * np.arange(history_steps, dtype=np.int64)
        for first in range(0, len(wanted), _ROWS_PER_BLOCK):
            rows = slice(first, first + _ROWS_PER_BLOCK)
            out[rows] = points[((wanted[rows] - base) // spacing)[:, None] - back[None, :]]
        return True

    def stepwise_history(self, wanted: np.ndarray, width_hours: float, spacing: int, out: np.ndarray) -> None:
        """Fills out (n, history_steps) one step back at a time, on the grid of the
        reference times: O(history_steps × grid)."""
        base = int(wanted.min())
        grid = base + spacing * np.arange((int(wanted.max()) - base) // spacing + 1, dtype=np.int64)
        positions = (wanted - base) // spacing
        for h in range(out.shape[1]):
            # The edges windowing.window_edges gives a one-point horizon h steps back.
            start = round(-(h + 1) * width_hours * _NS_PER_HOUR)
            end = round(-h * width_hours * _NS_PER_HOUR)
            out[:, h] = self._one_point_windows(np.array([start, end], dtype=np.int64), grid, spacing)[positions]

    def _one_point_windows(self, edges: np.ndarray, grid: np.ndarray, spacing: int) -> np.ndarray:
        """The value of a one-point window with these edges at every instant of an evenly
        spaced grid, NaN where build_windows would drop it; float32 precision, as
        build_windows stores window values."""
        resampler = FeatureResampler(self.times, self.values, edges, self.method, self.tolerance_ns, spacing)
        covered = resampler.covers(grid, _MAX_LATTICE)
        values = np.asarray(resampler.resample(grid, np.ones(len(grid), dtype=bool)))[:, 0]
        return np.where(covered, values, np.nan).astype(np.float32).astype(np.float64)
