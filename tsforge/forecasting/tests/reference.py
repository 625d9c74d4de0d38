"""A slow, obviously correct windowing: a plain Python loop per sample and per point.

It follows the definitions in tsforge.forecasting.windowing and .resampling literally,
on Python integers (nanoseconds) and floats, and shares no code with them.
"""

from __future__ import annotations

import calendar as calendar_module
import itertools
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

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


def calendar_row(instant_ns: int, columns, time_zone="UTC", country="") -> list[float]:
    """The calendar columns ("year", "month", "week", "day", "holiday") of one instant,
    from Python's datetime on the local wall clock, one instant at a time."""
    local = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=instant_ns // 1000)
    local = local.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    within_day = (local - local.replace(hour=0, minute=0, second=0, microsecond=0)) / timedelta(days=1)
    row = []
    for cycle in ("year", "month", "week", "day"):
        if cycle not in columns:
            continue
        if cycle == "day":
            position = within_day
        elif cycle == "week":
            position = (local.weekday() + within_day) / 7
        elif cycle == "month":
            position = (local.day - 1 + within_day) / calendar_module.monthrange(local.year, local.month)[1]
        else:
            days = 366 if calendar_module.isleap(local.year) else 365
            position = (local.timetuple().tm_yday - 1 + within_day) / days
        row += [math.sin(2 * math.pi * position), math.cos(2 * math.pi * position)]
    if "holiday" in columns:
        row.append(1.0 if local.date() in holidays.country_holidays(country, years=local.year) else 0.0)
    return row


def build(
    inputs,
    outputs,
    input_steps,
    output_steps,
    step_minutes,
    offset_minutes,
    tolerance_ns,
    lags=(),
    future_calendar=None,
):
    """inputs/outputs: lists of (points, method, start_hours, end_hours); lags: list of
    (points, method, lag_hours), each point k at output step k's time minus the lag (the
    output steps of the first output); future_calendar: None or (columns, time zone,
    country) for calendar_row at those output step times.

    Returns (X rows, y rows, reference times in ns, dropped), and F rows when lags or a
    future calendar are given, or raises ValueError.
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
    X, y, F, kept, dropped = [], [], [], [], 0
    while reference <= end:
        sample = []
        for group, steps in ((inputs, input_steps), (outputs, output_steps)):
            columns = []
            for points, method, start_hours, end_hours in group:
                tolerance = median_tolerance(points) if tolerance_ns is None else tolerance_ns
                edge_times = [reference + e for e in edges(start_hours, end_hours, steps)]
                columns.append(resample_one(points, method, edge_times, tolerance))
            sample.append(columns)
        _, _, out_start, out_end = outputs[0]
        output_times = [reference + e for e in edges(out_start, out_end, output_steps)]
        lag_columns = []
        for points, method, lag_hours in lags:
            lag = round(lag_hours * NS_PER_HOUR)
            tolerance = median_tolerance(points) if tolerance_ns is None else tolerance_ns
            lag_columns.append(resample_one(points, method, [t - lag for t in output_times], tolerance))
        if any(column is None for columns in (*sample, lag_columns) for column in columns):
            dropped += 1
        else:
            X.append([list(row) for row in zip(*sample[0], strict=True)])
            y.append([list(row) for row in zip(*sample[1], strict=True)])
            rows = [[column[k] for column in lag_columns] for k in range(output_steps)]
            if future_calendar is not None:
                rows = [row + calendar_row(t, *future_calendar) for row, t in zip(rows, output_times[1:], strict=True)]
            F.append(rows)
            kept.append(reference)
        reference += step
    if lags or future_calendar is not None:
        return X, y, kept, dropped, F
    return X, y, kept, dropped
