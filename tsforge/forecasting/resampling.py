"""Resampling one feature's raw points onto the window points of many samples at once.

A feature's window for reference time r has the points p_k = r + offset_k (k = 1..N)
and, for MEAN, the interval edge p_0 = r + start. Everything here takes reference times
as int64 nanoseconds since the epoch and works on whole blocks of them with numpy; there
is no loop per sample or per window point.

Which samples a feature can serve (`FeatureResampler.covers`):

- The window's span is [p_1, p_N] for LINEAR and NEAREST (the points they read) and
  (p_0, p_N] for MEAN (the intervals it averages). The span must lie inside the series,
  [first raw time, last raw time].
- No gap may touch the span: a gap is the open stretch between two consecutive raw points
  farther apart than the tolerance. A gap between two window points drops the sample
  too, even where interpolation at the points themselves would not cross it, because the
  window would then describe data that is not there.
- MEAN also needs at least one raw point in every interval (p_{k-1}, p_k].

Speed: reference times lie on a grid r_j = r_0 + j * step. When a feature's window
points are evenly spaced by a multiple s of the step (the usual case, e.g. 15-minute
points and a 15-minute step), point k of sample j is lattice point j + k * s of one
1-D lattice of instants, so each distinct instant is resampled once and the (samples,
points) matrix is a strided view of the lattice. Other windows are resampled point by
point, still vectorised.
"""

from __future__ import annotations

import enum

import numpy as np
from numpy.lib.stride_tricks import as_strided


class ResamplingMethod(enum.Enum):
    """Mirrors tsforge.common.v1.ResamplingMethod (UNSPECIFIED means LINEAR)."""

    LINEAR = "linear"
    MEAN = "mean"
    NEAREST = "nearest"


class FeatureResampler:
    """One feature's raw points, prepared for vectorised resampling onto its window.

    `times` are strictly increasing int64 nanoseconds, `values` finite float64 of the same
    length (at least one point); `edges` are the window's N + 1 offsets from the reference
    time in nanoseconds, edges[0] the horizon start (excluded) and edges[1:] the points;
    `step_ns` is the spacing of the reference-time grid.
    """

    def __init__(
        self,
        times: np.ndarray,
        values: np.ndarray,
        edges: np.ndarray,
        method: ResamplingMethod,
        tolerance_ns: int,
        step_ns: int,
    ) -> None:
        self._times = times
        self._values = values
        self._edges = edges
        self._method = method
        self._step = step_ns
        is_gap = np.diff(times) > tolerance_ns
        self._gap_starts = times[:-1][is_gap]
        self._gap_ends = times[1:][is_gap]
        if method is ResamplingMethod.MEAN:
            # Cumulative sums of the centred values keep interval means accurate even
            # for values with a large offset and little variation.
            self._centre = float(values.mean())
            self._cumulative = np.concatenate(([0.0], np.cumsum(values - self._centre)))
        self._stride = _lattice_stride(edges if method is ResamplingMethod.MEAN else edges[1:], step_ns)

    def covers(self, references: np.ndarray, block_size: int) -> np.ndarray:
        """Which reference times (an evenly spaced grid, int64 ns) this feature has data
        for: a bool per reference time."""
        first_edge = self._edges[0] if self._method is ResamplingMethod.MEAN else self._edges[1]
        span_start = references + first_edge
        span_end = references + self._edges[-1]
        inside = (span_start >= self._times[0]) & (span_end <= self._times[-1])
        # Gaps are disjoint and ordered: those starting before the span's end, minus
        # those ending at or before its start, are the ones that overlap it.
        touching = np.searchsorted(self._gap_starts, span_end, side="left") - np.searchsorted(
            self._gap_ends, span_start, side="right"
        )
        covered = inside & (touching == 0)
        if self._method is ResamplingMethod.MEAN:
            for first in range(0, len(references), block_size):
                block = slice(first, first + block_size)
                covered[block] &= self._intervals_filled(references[block])
        return covered

    def resample(self, references: np.ndarray, kept: np.ndarray) -> np.ndarray:
        """Values at the window points of the grid `references` where `kept` (bool) is
        set: shape (kept.sum(), N), float64, possibly a read-only view.

        Only meaningful for reference times that `covers` accepted.
        """
        if self._stride is None:
            return self._resample_points(references[kept])
        view = self._window_view(references[0], len(references), self._value_lattice)
        return view if kept.all() else np.asarray(view[kept])

    def _intervals_filled(self, references: np.ndarray) -> np.ndarray:
        if self._stride is None:
            positions = np.searchsorted(self._times, references[:, None] + self._edges[None, :], side="right")
            return np.asarray((np.diff(positions, axis=1) > 0).all(axis=1))
        return np.asarray(self._window_view(references[0], len(references), self._filled_lattice).all(axis=1))

    def _window_view(self, first_reference: int, count: int, evaluate) -> np.ndarray:
        """(count, N) read-only view of `evaluate` on one lattice of instants,
        first_reference + edges[1] + m * step: point k of reference i is m = i + k * stride."""
        points = len(self._edges) - 1
        stride = self._lattice_stride()
        steps = np.arange(count + (points - 1) * stride, dtype=np.int64)
        lattice = evaluate(first_reference + self._edges[1] + self._step * steps)
        item = lattice.strides[0]
        return as_strided(lattice, shape=(count, points), strides=(item, item * stride), writeable=False)

    def _value_lattice(self, instants: np.ndarray) -> np.ndarray:
        if self._method is ResamplingMethod.MEAN:
            ends = self._positions(instants)
            starts = self._positions(instants - self._step * self._lattice_stride())
            return self._interval_means(starts, ends)
        if self._method is ResamplingMethod.NEAREST:
            return self._nearest(instants)
        return self._linear(instants)

    def _filled_lattice(self, instants: np.ndarray) -> np.ndarray:
        return self._positions(instants) > self._positions(instants - self._step * self._lattice_stride())

    def _lattice_stride(self) -> int:
        if self._stride is None:
            raise ValueError("the window's points lie on no lattice")
        return self._stride

    def _resample_points(self, references: np.ndarray) -> np.ndarray:
        if self._method is ResamplingMethod.MEAN:
            positions = self._positions(references[:, None] + self._edges[None, :])
            return self._interval_means(positions[:, :-1], positions[:, 1:])
        instants = references[:, None] + self._edges[None, 1:]
        if self._method is ResamplingMethod.NEAREST:
            return self._nearest(instants)
        return self._linear(instants)

    def _positions(self, instants: np.ndarray) -> np.ndarray:
        """How many raw points lie at or before each instant."""
        return np.searchsorted(self._times, instants, side="right")

    def _interval_means(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self._cumulative[ends] - self._cumulative[starts]) / (ends - starts) + self._centre

    def _linear(self, instants: np.ndarray) -> np.ndarray:
        if len(self._times) == 1:
            return np.full(instants.shape, self._values[0])
        # left: the last raw point at or before the instant, kept below the last index
        # so that left + 1 exists; an instant on the last raw time gets fraction 1.
        left = np.clip(self._positions(instants) - 1, 0, len(self._times) - 2)
        left_times = self._times[left]
        fraction = (instants - left_times) / (self._times[left + 1] - left_times)
        left_values = self._values[left]
        return left_values + fraction * (self._values[left + 1] - left_values)

    def _nearest(self, instants: np.ndarray) -> np.ndarray:
        after = np.searchsorted(self._times, instants, side="left")
        last = len(self._times) - 1
        before = np.clip(after - 1, 0, last)
        after = np.clip(after, 0, last)
        # Ties go to the earlier raw point.
        take_after = (self._times[after] - instants) < (instants - self._times[before])
        return self._values[np.where(take_after, after, before)]


def _lattice_stride(points: np.ndarray, step_ns: int) -> int | None:
    """s when consecutive points are s reference steps apart (0 for a single point),
    else None."""
    gaps = np.diff(points)
    if len(gaps) == 0:
        return 0
    if (gaps != gaps[0]).any() or gaps[0] % step_ns:
        return None
    return int(gaps[0] // step_ns)
