"""Cutting feature series into sample windows: X (inputs), y (outputs) and the future
window F (lags and calendar at the output steps) per reference time.

Reference times run from the latest first raw time to the earliest last raw time of
all features, at the instants whose minutes since 1970-01-01T00:00Z are congruent to
offset_minutes modulo step_minutes. For each one, every feature's horizon
[r + start, r + end] is sampled at N points, point k (1..N) at r + start + k (end - start) / N
(the horizon start is excluded, its end included), by the feature's ResamplingMethod.
A reference time for which any feature lacks data (see tsforge.forecasting.resampling for
the exact rule) is dropped and counted, never filled.

The future window F (n, output_steps, n_lags + future calendar columns) holds what is
known at the reference time about the output steps: lag features (a series some lag
before each output step: a FeatureSpec whose horizon is the first output's horizon
shifted back by the lag, see lag_spec) and calendar columns computed at the first
output's window points. A lag window must end at or before the reference time.

Memory: after a first pass that only decides which reference times are kept, X and y
are allocated once at their final size and filled in blocks of reference times, so the
temporaries are bounded by the block, not by the dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from tsforge.forecasting.calendar import CalendarEncoder, CalendarSpec
from tsforge.forecasting.resampling import FeatureResampler, ResamplingMethod

_NS_PER_HOUR = 3_600 * 10**9
_NS_PER_MINUTE = 60 * 10**9
# Window points (samples x points) resampled per block; bounds the temporaries.
_POINTS_PER_BLOCK = 1 << 22


@dataclass(frozen=True)
class Series:
    """One feature's raw points: `times` datetime64 (UTC, any unit), `values` float64.

    Non-finite values count as missing points (they leave a gap, never a filled value).
    """

    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class FeatureSpec:
    """How a series becomes a feature: its horizon in hours relative to the reference
    time, its resampling method and the interval it is scaled into."""

    name: str
    start_hours: float
    end_hours: float
    method: ResamplingMethod = ResamplingMethod.LINEAR
    scale_min: float = 0.0
    scale_max: float = 1.0


@dataclass(frozen=True)
class Feature:
    """A feature's spec and its raw series."""

    spec: FeatureSpec
    series: Series


@dataclass(frozen=True)
class WindowSpec:
    """Sample shape and reference-time spacing (I_N, O_N, DELT, OFST)."""

    input_steps: int
    output_steps: int
    step_minutes: int
    offset_minutes: int = 0


@dataclass(frozen=True)
class Windows:
    """The samples: X (n, input_steps, n_inputs + calendar columns),
    y (n, output_steps, n_outputs) and F (n, output_steps, n_lags + future calendar
    columns), float32, unscaled; `times` the reference times (n,) datetime64[ns] UTC in
    increasing order; `dropped` the reference times left out."""

    X: np.ndarray
    y: np.ndarray
    times: np.ndarray
    dropped: int
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    F: np.ndarray | None = None
    future_names: tuple[str, ...] = ()

    @property
    def future(self) -> np.ndarray:
        """F, or an empty (n, output_steps, 0) array when there is none."""
        if self.F is None:
            return np.zeros((*self.y.shape[:2], 0), dtype=np.float32)
        return self.F


FUTURE_CALENDAR_PREFIX = "future."


def lag_spec(name: str, source: FeatureSpec, first_output: FeatureSpec, lag_hours: float) -> FeatureSpec:
    """The window spec of a lag feature: `source`'s resampling and scaling range over the
    first output's horizon moved `lag_hours` back, so point k lies lag_hours before
    output step k. Raises ValueError unless lag_hours > 0 and the window ends at or
    before the reference time (lag_hours >= the output horizon's end)."""
    if not lag_hours > 0:
        raise ValueError(f"lag {name!r}: lag_hours must be > 0, got {lag_hours}")
    if first_output.end_hours - lag_hours > 1e-9:
        raise ValueError(
            f"lag {name!r}: a lag of {lag_hours:g} h is not known at the reference time for output steps up to "
            f"{first_output.end_hours:g} h ahead; use a lag of at least {first_output.end_hours:g} h"
        )
    return FeatureSpec(
        name,
        first_output.start_hours - lag_hours,
        first_output.end_hours - lag_hours,
        source.method,
        source.scale_min,
        source.scale_max,
    )


def future_calendar_names(calendar: CalendarSpec | None) -> tuple[str, ...]:
    """Names of the future calendar columns, e.g. "future.calendar.holiday"."""
    return tuple(FUTURE_CALENDAR_PREFIX + name for name in (calendar or CalendarSpec()).column_names())


def build_windows(
    inputs: Sequence[Feature],
    outputs: Sequence[Feature],
    window: WindowSpec,
    gap_tolerance: timedelta | None = None,
    calendar: CalendarSpec | None = None,
    *,
    lags: Sequence[Feature] = (),
    future_calendar: CalendarSpec | None = None,
    block_size: int | None = None,
) -> Windows:
    """Cuts the features into sample windows, dropping (and counting) uncovered ones.

    gap_tolerance is the longest stretch between consecutive raw points that
    resampling may bridge; None means 1.5 median steps of each series. Calendar columns
    are computed at the window points of the first input and appended after the inputs.
    `lags` (specs from lag_spec) are sampled at output_steps points into F, then the
    `future_calendar` columns at the first output's window points. block_size is the
    number of reference times built at a time (None: sized so that a block holds about
    four million window points).

    Raises ValueError for impossible input: no inputs or outputs, duplicate names, a
    malformed series or spec, a lag window ending after the reference time, files that
    do not overlap in time, or an overlap that holds no reference time.
    """
    calendar = calendar or CalendarSpec()
    _check_window(window)
    _check_features(inputs, "input")
    _check_features(outputs, "output")
    _check_lags(lags)
    encoder = CalendarEncoder(calendar)
    future_encoder = CalendarEncoder(future_calendar or CalendarSpec())
    if gap_tolerance is not None and gap_tolerance < timedelta(0):
        raise ValueError(f"gap_tolerance must not be negative, got {gap_tolerance}")
    input_resamplers = [
        _resampler(feature, window.input_steps, window.step_minutes, gap_tolerance) for feature in inputs
    ]
    output_resamplers = [
        _resampler(feature, window.output_steps, window.step_minutes, gap_tolerance) for feature in outputs
    ]
    lag_resamplers = [_resampler(feature, window.output_steps, window.step_minutes, gap_tolerance) for feature in lags]
    references = reference_times([feature.series for feature in (*inputs, *outputs)], window)
    if block_size is None:
        block_size = max(1, _POINTS_PER_BLOCK // (max(window.input_steps, window.output_steps) + 1))
    elif block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")

    kept = np.ones(len(references), dtype=bool)
    for resampler in (*input_resamplers, *output_resamplers, *lag_resamplers):
        kept &= resampler.covers(references, block_size)
    kept_references = references[kept]
    count = len(kept_references)

    calendar_points = window_edges(inputs[0].spec, window.input_steps)[1:]
    X = np.empty((count, window.input_steps, len(inputs) + len(encoder.column_names)), dtype=np.float32)
    y = np.empty((count, window.output_steps, len(outputs)), dtype=np.float32)
    future_points = window_edges(outputs[0].spec, window.output_steps)[1:]
    F = np.empty((count, window.output_steps, len(lags) + len(future_encoder.column_names)), dtype=np.float32)
    row = 0
    for first in range(0, len(references), block_size):
        block, block_kept = references[first : first + block_size], kept[first : first + block_size]
        rows = slice(row, row + int(block_kept.sum()))
        if rows.start == rows.stop:
            continue
        for column, resampler in enumerate(input_resamplers):
            X[rows, :, column] = resampler.resample(block, block_kept)
        for column, resampler in enumerate(output_resamplers):
            y[rows, :, column] = resampler.resample(block, block_kept)
        if encoder.column_names:
            X[rows, :, len(inputs) :] = encoder.encode(block[block_kept][:, None] + calendar_points[None, :])
        for column, resampler in enumerate(lag_resamplers):
            F[rows, :, column] = resampler.resample(block, block_kept)
        if future_encoder.column_names:
            F[rows, :, len(lags) :] = future_encoder.encode(block[block_kept][:, None] + future_points[None, :])
        row = rows.stop
    return Windows(
        X=X,
        y=y,
        times=kept_references.view("datetime64[ns]"),
        dropped=len(references) - count,
        input_names=tuple(feature.spec.name for feature in inputs) + encoder.column_names,
        output_names=tuple(feature.spec.name for feature in outputs),
        F=F,
        future_names=tuple(feature.spec.name for feature in lags) + future_calendar_names(future_calendar),
    )


class UncoveredWindow(ValueError):
    """An input feature lacks data for the window of a reference time (see input_windows)."""

    def __init__(self, feature: str, reference: int, start: int, end: int):
        self.feature, self.reference, self.start, self.end = feature, reference, start, end
        super().__init__(
            f"input feature {feature!r} lacks data from {_iso(start)} to {_iso(end)}, "
            f"needed for reference time {_iso(reference)}"
        )


# Reference times further apart than this many steps are resampled on separate grids.
_MAX_GRID_GAP_STEPS = 64


def input_windows(
    inputs: Sequence[Feature],
    window: WindowSpec,
    references: np.ndarray,
    gap_tolerance: timedelta | None = None,
    calendar: CalendarSpec | None = None,
) -> np.ndarray:
    """X (n, input_steps, n_inputs + calendar columns), float32, unscaled, for given
    reference times (int64 ns since the epoch, any order, repeats allowed): the input
    side of build_windows, resampled by the same FeatureResampler, for prediction.

    Raises UncoveredWindow for the first reference time (in time order) that a feature
    cannot fill under build_windows' rule; ValueError for malformed input.
    """
    calendar = calendar or CalendarSpec()
    _check_window(window)
    _check_features(inputs, "input")
    encoder = CalendarEncoder(calendar)
    references = np.asarray(references, dtype=np.int64)
    X = np.empty((len(references), window.input_steps, len(inputs) + len(encoder.column_names)), dtype=np.float32)
    _resample_at(inputs, window.input_steps, window, references, gap_tolerance, X)
    if encoder.column_names and len(references):
        calendar_points = window_edges(inputs[0].spec, window.input_steps)[1:]
        X[:, :, len(inputs) :] = encoder.encode(references[:, None] + calendar_points[None, :])
    return X


def future_windows(
    lags: Sequence[Feature],
    first_output: FeatureSpec,
    window: WindowSpec,
    references: np.ndarray,
    gap_tolerance: timedelta | None = None,
    future_calendar: CalendarSpec | None = None,
) -> np.ndarray:
    """F (n, output_steps, n_lags + future calendar columns), float32, unscaled, for
    given reference times: the future side of build_windows (same resampling, same
    calendar points), for prediction. `first_output` is the spec of the dataset's first
    output feature (whose window points the calendar columns are computed at).

    Raises UncoveredWindow (a lag source lacks data), ValueError (malformed input).
    """
    _check_window(window)
    _check_lags(lags)
    encoder = CalendarEncoder(future_calendar or CalendarSpec())
    references = np.asarray(references, dtype=np.int64)
    F = np.empty((len(references), window.output_steps, len(lags) + len(encoder.column_names)), dtype=np.float32)
    _resample_at(lags, window.output_steps, window, references, gap_tolerance, F)
    if encoder.column_names and len(references):
        points = window_edges(first_output, window.output_steps)[1:]
        F[:, :, len(lags) :] = encoder.encode(references[:, None] + points[None, :])
    return F


def _resample_at(
    features: Sequence[Feature],
    steps: int,
    window: WindowSpec,
    references: np.ndarray,
    gap_tolerance: timedelta | None,
    out: np.ndarray,
) -> None:
    """Fills out[:, :, j] with feature j's window at each reference time (any order);
    raises UncoveredWindow for the first uncovered one in time order."""
    resamplers = [_resampler(feature, steps, window.step_minutes, gap_tolerance) for feature in features]
    step = window.step_minutes * _NS_PER_MINUTE
    order = np.argsort(references, kind="stable")
    ordered = references[order]
    # FeatureResampler works on evenly spaced grids: cut the sorted times into runs that
    # lie on one grid with small holes, and resample each run's whole grid.
    breaks = np.flatnonzero((np.diff(ordered) % step != 0) | (np.diff(ordered) > step * _MAX_GRID_GAP_STEPS)) + 1
    block_size = max(1, _POINTS_PER_BLOCK // (steps + 1))
    for run in np.split(np.arange(len(ordered)), breaks):
        if len(run) == 0:
            continue
        first = int(ordered[run[0]])
        positions = (ordered[run] - first) // step
        grid = first + step * np.arange(int(positions[-1]) + 1, dtype=np.int64)
        wanted = np.zeros(len(grid), dtype=bool)
        wanted[positions] = True
        rank = np.searchsorted(np.flatnonzero(wanted), positions)
        rows = order[run]
        for column, (feature, resampler) in enumerate(zip(features, resamplers)):
            missing = wanted & ~resampler.covers(grid, block_size)
            if missing.any():
                reference = int(grid[np.argmax(missing)])
                edges = window_edges(feature.spec, steps)
                start = edges[0] if feature.spec.method is ResamplingMethod.MEAN else edges[1]
                raise UncoveredWindow(feature.spec.name, reference, reference + int(start), reference + int(edges[-1]))
            out[rows, :, column] = np.asarray(resampler.resample(grid, wanted))[rank]


def reference_times(series: Sequence[Series], window: WindowSpec) -> np.ndarray:
    """All reference times (int64 ns since the epoch) from the latest first raw time to
    the earliest last raw time, aligned to the window's offset and step.

    Raises ValueError if the series do not overlap or the overlap holds no aligned instant.
    """
    spans = [_span(item) for item in series]
    start = max(first for first, _ in spans)
    end = min(last for _, last in spans)
    if start > end:
        raise ValueError(
            f"the files do not overlap in time: the latest starts at {_iso(start)}, the earliest ends at {_iso(end)}"
        )
    step = window.step_minutes * _NS_PER_MINUTE
    offset = window.offset_minutes * _NS_PER_MINUTE
    first = start + (offset - start) % step
    if first > end:
        raise ValueError(
            f"the files overlap only from {_iso(start)} to {_iso(end)}, which holds no reference time"
            f" ({window.offset_minutes} minutes past a multiple of {window.step_minutes} minutes)"
        )
    return first + step * np.arange((end - first) // step + 1, dtype=np.int64)


def window_edges(spec: FeatureSpec, steps: int) -> np.ndarray:
    """Offsets from the reference time in int64 ns: the horizon start, then the N points."""
    start = round(spec.start_hours * _NS_PER_HOUR)
    width = round(spec.end_hours * _NS_PER_HOUR) - start
    # Python integers: k * width can exceed int64 for long horizons.
    return np.array([start + k * width // steps for k in range(steps + 1)], dtype=np.int64)


def _resampler(
    feature: Feature, steps: int, step_minutes: int, gap_tolerance: timedelta | None, step_ns: int | None = None
) -> FeatureResampler:
    """The feature's resampler for windows of `steps` points on a grid of reference
    times step_minutes apart (or step_ns, when given)."""
    times, values = _clean(feature)
    if gap_tolerance is None:
        tolerance = int(1.5 * np.median(np.diff(times))) if len(times) > 1 else 0
    else:
        tolerance = gap_tolerance // timedelta(microseconds=1) * 1000
    edges = window_edges(feature.spec, steps)
    step = step_ns if step_ns is not None else step_minutes * _NS_PER_MINUTE
    return FeatureResampler(times, values, edges, feature.spec.method, tolerance, step)


def _clean(feature: Feature) -> tuple[np.ndarray, np.ndarray]:
    name = feature.spec.name
    times, values = np.asarray(feature.series.times), np.asarray(feature.series.values, dtype=np.float64)
    if times.ndim != 1 or values.shape != times.shape:
        raise ValueError(f"feature {name!r}: times and values must be 1-D and of equal length")
    if not np.issubdtype(times.dtype, np.datetime64):
        raise ValueError(f"feature {name!r}: times must be datetime64, got {times.dtype}")
    if np.isnat(times).any():
        raise ValueError(f"feature {name!r}: times contain NaT")
    present = np.isfinite(values)
    times = times[present].astype("datetime64[ns]").view(np.int64)
    if len(times) == 0:
        raise ValueError(f"feature {name!r} has no numeric values")
    if (np.diff(times) <= 0).any():
        raise ValueError(f"feature {name!r}: times must be strictly increasing")
    return times, values[present]


def _span(series: Series) -> tuple[int, int]:
    # Checked by _clean already; only present points count for the span.
    times = np.asarray(series.times)[np.isfinite(np.asarray(series.values, dtype=np.float64))]
    times = times.astype("datetime64[ns]").view(np.int64)
    return int(times[0]), int(times[-1])


def _check_window(window: WindowSpec) -> None:
    if window.input_steps < 1 or window.output_steps < 1:
        raise ValueError("input_steps and output_steps must be at least 1")
    if window.step_minutes < 1:
        raise ValueError(f"step_minutes must be at least 1, got {window.step_minutes}")
    if not 0 <= window.offset_minutes < window.step_minutes:
        raise ValueError(f"offset_minutes must lie in 0..step_minutes-1, got {window.offset_minutes}")


def _check_features(features: Sequence[Feature], role: str) -> None:
    if not features:
        raise ValueError(f"at least one {role} feature is required")
    names = [feature.spec.name for feature in features]
    if len(set(names)) != len(names):
        raise ValueError(f"{role} feature names must be unique, got {names}")
    for feature in features:
        spec = feature.spec
        if not spec.start_hours < spec.end_hours:
            raise ValueError(f"feature {spec.name!r}: start_hours must be below end_hours")
        if not spec.scale_min < spec.scale_max:
            raise ValueError(f"feature {spec.name!r}: scale_min must be below scale_max")


def _check_lags(lags: Sequence[Feature]) -> None:
    names = [feature.spec.name for feature in lags]
    if len(set(names)) != len(names):
        raise ValueError(f"lag feature names must be unique, got {names}")
    for feature in lags:
        spec = feature.spec
        if not spec.start_hours < spec.end_hours:
            raise ValueError(f"lag {spec.name!r}: start_hours must be below end_hours")
        if spec.end_hours > 1e-9:
            raise ValueError(f"lag {spec.name!r}: its window must end at or before the reference time")


def _iso(instant: int) -> str:
    return f"{np.datetime64(instant, 'ns').astype('datetime64[s]')}Z"
