"""A slow, obviously correct windowing: a plain Python loop per sample and per point.

It follows the definitions in tsforge.forecasting.windowing and .resampling literally,
on Python integers (nanoseconds) and floats, and shares no code with them.
"""

from __future__ import annotations

import itertools
import math

NS_PER_HOUR = 3_600 * 10**9
NS_PER_MINUTE = 60 * 10**9


def raw_points(times, values) -> list[tuple[int, float]]:
    """(ns, value) pairs of the present (finite) points."""
    return [
        (int(t.astype("datetime64[ns]").astype("int64")), float(v))
        for t, v in zip(times, values, strict=True)
        if math.isfinite(float(v))
    ]


def median_tolerance(points) -> int:
    steps = sorted(b[0] - a[0] for a, b in itertools.pairwise(points))
    if not steps:
        return 0
    middle = len(steps) // 2
    median = steps[middle] if len(steps) % 2 else (steps[middle - 1] + steps[middle]) / 2
    return int(1.5 * median)


def edges(start_hours, end_hours, steps) -> list[int]:
    start = round(start_hours * NS_PER_HOUR)
    end = round(end_hours * NS_PER_HOUR)
    return [start + k * (end - start) // steps for k in range(steps + 1)]


def resample_one(points, method, edge_times, tolerance) -> list[float] | None:
    """Values at edge_times[1:], or None when the window is not covered."""
    span_start = edge_times[0] if method == "mean" else edge_times[1]
    span_end = edge_times[-1]
    if span_start < points[0][0] or span_end > points[-1][0]:
        return None
    for (a, _), (b, _) in itertools.pairwise(points):
        if b - a > tolerance and a < span_end and b > span_start:
            return None
    values = []
    for k in range(1, len(edge_times)):
        at = edge_times[k]
        if method == "linear":
            exact = [v for t, v in points if t == at]
            if exact:
                values.append(exact[0])
                continue
            for (a, va), (b, vb) in itertools.pairwise(points):
                if a < at < b:
                    values.append(va + (at - a) / (b - a) * (vb - va))
                    break
        elif method == "mean":
            inside = [v for t, v in points if edge_times[k - 1] < t <= at]
            if not inside:
                return None
            values.append(sum(inside) / len(inside))
        else:
            values.append(min(points, key=lambda point: (abs(point[0] - at), point[0]))[1])
    return values


def build(inputs, outputs, input_steps, output_steps, step_minutes, offset_minutes, tolerance_ns):
    """inputs/outputs: lists of (points, method, start_hours, end_hours).

    Returns (X rows, y rows, reference times in ns, dropped) or raises ValueError.
    """
    features = [*inputs, *outputs]
    start = max(points[0][0] for points, *_ in features)
    end = min(points[-1][0] for points, *_ in features)
    if start > end:
        raise ValueError("no overlap")
    step = step_minutes * NS_PER_MINUTE
    reference = -(-start // NS_PER_MINUTE) * NS_PER_MINUTE  # the first whole minute
    while (reference // NS_PER_MINUTE) % step_minutes != offset_minutes:
        reference += NS_PER_MINUTE
    if reference > end:
        raise ValueError("no reference time")
    X, y, kept, dropped = [], [], [], 0
    while reference <= end:
        sample = []
        for group, steps in ((inputs, input_steps), (outputs, output_steps)):
            columns = []
            for points, method, start_hours, end_hours in group:
                tolerance = median_tolerance(points) if tolerance_ns is None else tolerance_ns
                edge_times = [reference + e for e in edges(start_hours, end_hours, steps)]
                columns.append(resample_one(points, method, edge_times, tolerance))
            sample.append(columns)
        if any(column is None for columns in sample for column in columns):
            dropped += 1
        else:
            X.append([list(row) for row in zip(*sample[0], strict=True)])
            y.append([list(row) for row in zip(*sample[1], strict=True)])
            kept.append(reference)
        reference += step
    return X, y, kept, dropped
