"""pandas DataFrames in and out of the platform's messages: inline Predict inputs (from a
frame or a CSV file read as uploads are), the forecasts Predict returns, and a model's
stored predictions (long, or wide with a row per reference time)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from google.protobuf.timestamp_pb2 import Timestamp

from tsforge.models.v1 import models_service_pb2 as mpb
from tsforge.tabular.profiling import read_csv_columns
from tsforge.tabular.streams import file_chunks

_NS_PER_HOUR = 3600 * 10**9


def _utc(times) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(times)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return index.as_unit("ns")


def utc_instant(value: Any) -> pd.Timestamp:
    """A time (text, datetime, Timestamp) as a UTC Timestamp: one with a zone or offset
    is converted, one without is taken as UTC."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def csv_frame(path: str | Path) -> pd.DataFrame:
    """A local CSV file of time series as a frame indexed by UTC time, one float column
    per value column, read exactly as the upload service reads an uploaded file
    (tsforge.tabular: the same dialect detection, so `;` with decimal commas, Latin-1
    and dd.mm.yyyy timestamps as well; dotted dates are day.month.year, decided once for
    the whole column). Raises CsvProblem (a ValueError) saying what and which line."""
    with Path(path).open("rb") as handle:
        read = read_csv_columns(file_chunks(handle))
    index = pd.DatetimeIndex(read.times.astype("datetime64[ns]"), name="time").tz_localize("UTC")
    return pd.DataFrame(dict(zip(read.names, read.values)), index=index)


def inline_inputs(frame: pd.DataFrame) -> mpb.InlineInputs:
    """One InlineSeries per column of a time-indexed frame (or one with a "time" column);
    naive times are UTC; missing values are left out of their series."""
    if "time" in frame.columns:
        frame = frame.set_index("time")
    times = _utc(frame.index)
    inputs = mpb.InlineInputs()
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        present = np.isfinite(values)
        series = inputs.series.add(feature=str(column), values=values[present].tolist())
        for nanoseconds in times[present].asi8:
            series.times.add(seconds=int(nanoseconds // 10**9), nanos=int(nanoseconds % 10**9))
    return inputs


def _stamp(value: Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value.seconds * 10**9 + value.nanos, tz="UTC")


def forecast_frame(response: mpb.PredictResponse) -> pd.DataFrame:
    """A row per reference time, output feature and step: reference_time, feature, step
    (1-based), time (reference time + the step's offset), value, and lower_<level> /
    upper_<level> columns for every interval level the version gives."""
    offsets = {steps.feature: [d.seconds * 10**9 + d.nanos for d in steps.offsets] for steps in response.steps}
    records = []
    for forecast in response.forecasts:
        reference = _stamp(forecast.reference_time)
        for feature in forecast.features:
            shifts = offsets.get(feature.feature, [])
            bounds = _bounds(feature)
            for k, value in enumerate(feature.values):
                record = {
                    "reference_time": reference,
                    "feature": feature.feature,
                    "step": k + 1,
                    "time": reference + pd.Timedelta(shifts[k], unit="ns") if k < len(shifts) else pd.NaT,
                    "value": value,
                }
                for name, values in bounds.items():
                    record[name] = values[k]
                records.append(record)
    return pd.DataFrame.from_records(records, columns=_columns(records))


def _bounds(feature) -> dict[str, list[float]]:
    """lower_80 / upper_80 … columns of a FeatureForecast with intervals, else none."""
    found: dict[str, list[float]] = {}
    for interval in getattr(feature, "intervals", ()):
        level = f"{round(interval.level * 100):g}"
        found[f"lower_{level}"] = list(interval.lower)
        found[f"upper_{level}"] = list(interval.upper)
    return found


def _columns(records: list[dict]) -> list[str]:
    base = ["reference_time", "feature", "step", "time", "value"]
    extra = sorted({key for record in records for key in record} - set(base))
    return base + extra


def predictions_frame(messages: Iterable) -> pd.DataFrame:
    """ReadPredictions' stream as a row per reference time, output feature and step:
    reference_time, feature, step, time (the step's instant), actual, predicted (original
    units), and lower_<level> / upper_<level> when the model stored intervals."""
    messages = iter(messages)
    header = next(messages).header
    features = [f.feature for f in header.features]
    steps, n_features = header.output_steps, len(features)
    levels = list(header.interval_levels)
    # The instant of step k of feature j: the reference time + its horizon start + k widths.
    widths = [(f.horizon.end - f.horizon.start) / steps for f in header.features]
    starts = [f.horizon.start for f in header.features]
    frames = []
    for message in messages:
        chunk = message.chunk
        rows = len(chunk.reference_times)
        if rows == 0:
            continue
        references = np.array([t.seconds * 10**9 + t.nanos for t in chunk.reference_times], dtype=np.int64)
        shape = (rows, steps, n_features)
        columns = {
            "reference_time": np.repeat(references, steps * n_features),
            "feature": np.tile(np.array(features, dtype=object), rows * steps),
            "step": np.tile(np.repeat(np.arange(1, steps + 1), n_features), rows),
        }
        offsets = np.array(
            [[(starts[j] + (k + 1) * widths[j]) * _NS_PER_HOUR for j in range(n_features)] for k in range(steps)]
        )
        columns["time"] = (references[:, None, None] + offsets[None, :, :]).reshape(-1).astype(np.int64)
        columns["actual"] = np.asarray(chunk.actual).reshape(shape).reshape(-1)
        columns["predicted"] = np.asarray(chunk.predicted).reshape(shape).reshape(-1)
        lower, upper = list(getattr(chunk, "lower", ())), list(getattr(chunk, "upper", ()))
        if levels and lower:
            bounds_shape = (rows, len(levels), steps, n_features)
            for index, level in enumerate(levels):
                name = f"{round(level * 100):g}"
                columns[f"lower_{name}"] = np.asarray(lower).reshape(bounds_shape)[:, index].reshape(-1)
                columns[f"upper_{name}"] = np.asarray(upper).reshape(bounds_shape)[:, index].reshape(-1)
        frames.append(pd.DataFrame(columns))
    if not frames:
        return pd.DataFrame(columns=["reference_time", "feature", "step", "time", "actual", "predicted"])
    result = pd.concat(frames, ignore_index=True)
    for column in ("reference_time", "time"):
        result[column] = pd.to_datetime(result[column], unit="ns", utc=True)
    return result


def wide_predictions(long: pd.DataFrame) -> pd.DataFrame:
    """predictions_frame's rows pivoted to one row per reference time: `reference_time`,
    then for each output feature (in stream order) and step 1..N the columns
    `{feature}.{step}.time`, `{feature}.{step}.actual`, `{feature}.{step}.predicted`
    and, when the model stored intervals, `{feature}.{step}.lower_{level}` and
    `.upper_{level}` per level (e.g. lower_80), rows ordered by reference time."""
    quantities = ["time", "actual", "predicted"]
    quantities += sorted(c for c in long.columns if c.startswith(("lower_", "upper_")))
    features = list(dict.fromkeys(long["feature"]))
    steps = sorted(set(long["step"])) if len(long) else []
    references = pd.Index(sorted(set(long["reference_time"])), name="reference_time")
    indexed = long.set_index(["feature", "step", "reference_time"]).sort_index()
    columns: dict[str, pd.Series] = {}
    for feature in features:
        for step in steps:
            block = indexed.loc[(feature, step)].reindex(references)
            for quantity in quantities:
                columns[f"{feature}.{step}.{quantity}"] = block[quantity]
    return pd.DataFrame(columns, index=references).reset_index()
