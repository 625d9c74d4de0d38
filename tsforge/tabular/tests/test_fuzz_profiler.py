"""Fuzzing the CSV profiler: arbitrary bytes and near-CSV text (the dialects users bring,
with the mistakes they make) in chunks of any size. The only exception is CsvProblem,
with a message; a profile is plain JSON and the same however the bytes are chunked;
pathological files end fast in bounded memory.

Seeded (derandomize) and bounded; TSFORGE_FUZZ_EXAMPLES=5000 for a long hunt.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsforge.tabular.profiling import CsvProblem, FileProfile, preview_csv, profile_csv

EXAMPLES = int(os.environ.get("TSFORGE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,  # timed below, generously: the machine is shared
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
]
_ODD_TIMES = st.one_of(
    st.datetimes().map(lambda t: t.isoformat()),
    st.sampled_from(["", "noon", "2000-13-01 00:00:00", "9999-12-31 23:59:59", "0001-01-01 00:00:00"]),
    st.datetimes().map(lambda t: t.strftime("%d.%m.%Y %H:%M")),
)
_ODD_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e309", "Infinity", "1,5", "x", '"', '"a;b"', "\x00", "€"]),
    st.text(max_size=8),
)


def _rare(draw, every: int) -> bool:
    return draw(st.integers(0, every - 1)) == 0


@st.composite
def near_csv(draw) -> bytes:
    """Mostly good files in one of the dialects, with the mistakes users make mixed in rarely."""
    separator = draw(st.sampled_from([";", ",", "\t"]))
    time_format = draw(st.sampled_from(_FORMATS))
    columns = draw(st.integers(1, 5))
    start = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)))
    step = timedelta(minutes=draw(st.sampled_from([1, 15, 60, 1440])))
    lines = []
    if draw(st.booleans()):
        lines.append(separator.join(["time", *(f"v{i}" for i in range(columns))]))
    for row in range(draw(st.integers(0, 40))):
        time_cell = draw(_ODD_TIMES) if _rare(draw, 25) else (start + row * step).strftime(time_format)
        values = [
            draw(_ODD_VALUES) if _rare(draw, 15) else str(draw(st.integers(-1000, 1000)) / 8) for _ in range(columns)
        ]
        cells = [time_cell, *values]
        if _rare(draw, 30):  # a field more or less, or another separator
            cells = draw(st.sampled_from([cells[:-1], [*cells, "1"], [",".join(cells)]]))
        lines.append(separator.join(cells))
        if _rare(draw, 30):
            lines.append("")
    end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    return text.encode(encoding, errors="replace")


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def _profile(data: bytes, size: int) -> FileProfile | CsvProblem:
    try:
        return profile_csv(_chunks(data, size))
    except CsvProblem as problem:
        assert problem.message and len(problem.message) < 1000
        return problem


def _check(data: bytes, size: int) -> None:
    started = time.perf_counter()
    result = _profile(data, size)
    assert time.perf_counter() - started < 10
    whole = _profile(data, max(len(data), 1))
    assert type(whole) is type(result) and str(whole) == str(result) if isinstance(result, CsvProblem) else True
    if isinstance(result, FileProfile):
        assert result == whole
        json.dumps(dataclasses.asdict(result), default=str, allow_nan=False)
        assert result.row_count >= 1 and result.first_time <= result.last_time
        for column in result.columns:
            assert column.numeric_count + column.missing_count + column.non_finite_count <= result.row_count
            assert (column.min is None) == (column.numeric_count == 0)
            assert column.min is None or column.max is not None and column.min <= column.max
        preview_csv(_chunks(data, size), result, 5)


@FUZZ
@given(data=st.binary(max_size=3000), size=st.integers(1, 4096))
def test_arbitrary_bytes_profile_or_raise_csv_problem(data, size):
    _check(data, size)


@FUZZ
@given(data=near_csv(), size=st.integers(1, 512))
def test_near_csv_profiles_or_raises_csv_problem(data, size):
    _check(data, size)


def _big(kind: str) -> Iterator[bytes]:
    """About 40 MiB of a pathological file, streamed in 1 MiB chunks."""
    piece = {
        "one endless line": b"2020-01-01 00:00:00;1;" * 50_000,
        "only line ends": b"\n" * (1 << 20),
        "only quotes": b'"' * (1 << 20),
        "only separators": b";" * (1 << 20),
        "an open quote after a good head": None,
    }[kind]
    if piece is None:
        yield b"time;v\n" + b"".join(b"2020-01-01 00:00:00;1\n" for _ in range(10_000)) + b'2020-01-01 00:00:00;"'
        piece = b"1;2\n" * (1 << 18)
    for _ in range(40):
        yield piece[: 1 << 20]


@pytest.mark.parametrize(
    "kind", ["one endless line", "only line ends", "only quotes", "only separators", "an open quote after a good head"]
)
def test_pathological_files_end_fast_in_bounded_memory(kind):
    pool = pa.default_memory_pool()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(CsvProblem):
            profile_csv(_big(kind))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 20
    assert peak < 80 << 20, peak  # a 40 MiB file: never whole in memory
    assert pool.max_memory() < 200 << 20
