"""Reading one value column of an uploaded CSV file as a time series, streaming.

The upload service profiled the file (separator, decimal mark, encoding, timestamp
column and format); reading follows that profile exactly. Only the two columns are
kept, so memory is 16 bytes per row, not the file's size.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tsforge.tabular.streams import buffered
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

ROWS_PER_CHUNK = 250_000


def read_series(chunks: Iterable[bytes], profile: upload_pb.FileProfile, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(times as datetime64[ns] UTC, values as float64) of `column`, in file order.

    Cells that are missing, not numeric or infinite ("inf", 1e309; the profile counts
    them in non_finite_count) become NaN: windowing treats them as gaps.
    """
    timestamp_column = profile.timestamp_column
    names = None if profile.has_header else [c.name for c in profile.columns]
    if names is not None:
        names.insert(_timestamp_position(profile), timestamp_column)
    reader = pd.read_csv(
        buffered(chunks),
        sep=profile.separator,
        decimal=profile.decimal_mark,
        encoding="utf-8-sig" if profile.encoding == "utf-8-sig" else profile.encoding,
        header=0 if profile.has_header else None,
        names=names,
        usecols=[timestamp_column, column],
        dtype={timestamp_column: str, column: str},
        chunksize=ROWS_PER_CHUNK,
        engine="c",
        skip_blank_lines=True,
        keep_default_na=True,
    )
    times, values = [], []
    fmt = "ISO8601" if profile.timestamp_format == "ISO8601" else profile.timestamp_format
    for frame in reader:
        stamps = pd.to_datetime(frame[timestamp_column], format=fmt, utc=True, errors="coerce")
        raw = (
            frame[column].str.replace(profile.decimal_mark, ".", regex=False)
            if profile.decimal_mark != "."
            else frame[column]
        )
        numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        numbers = np.where(np.isinf(numbers), np.nan, numbers)
        valid = stamps.notna().to_numpy()
        times.append(stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")[valid])
        values.append(numbers[valid])
    if not times:
        return np.empty(0, dtype="datetime64[ns]"), np.empty(0)
    return np.concatenate(times), np.concatenate(values)


def _timestamp_position(profile: upload_pb.FileProfile) -> int:
    # Header-less files name their columns column_1, column_2, ... by position.
    name = profile.timestamp_column
    return int(name.rsplit("_", 1)[1]) - 1 if name.startswith("column_") else 0
