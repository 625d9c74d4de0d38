"""Files the profiler used to get wrong: infinite values, quotes left open, mixed
separators, mixed timestamp formats, zoned and naive timestamps mixed, dates the
platform cannot compute with, very wide files. Each is read the same by Arrow and by
pandas, in the head and past it."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from tsforge.tabular.dialect import MAX_COLUMNS
from tsforge.tabular.profiling import CsvProblem, profile_csv
from tsforge.tabular.series import read_series
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

HOURS = "".join(f"2020-01-01 {h:02d}:00:00;{h}\n" for h in range(10))


def _long(tail: str, head: str = "time;v\n", rows: int = 5000) -> bytes:
    """A file whose first `rows` lines are good and whose `tail` comes past the head."""
    times = [datetime(1990, 1, 1) + timedelta(hours=i) for i in range(rows)]
    return (head + "".join(f"{t:%Y-%m-%d %H:%M:%S};1\n" for t in times) + tail).encode()


def _both(data: bytes, monkeypatch):
    """The profile or the problem, from Arrow-first reading and from pandas alone (which must agree)."""

    def read():
        try:
            return profile_csv([data[i : i + 4096] for i in range(0, len(data), 4096)])
        except CsvProblem as caught:
            return caught

    fast = read()
    with monkeypatch.context() as patch:
        patch.setattr("tsforge.tabular.profiling._arrow_rows", lambda block, dialect: None)
        slow = read()
    assert str(fast) == str(slow) and getattr(fast, "line", None) == getattr(slow, "line", None)
    return fast


INFINITE = (
    "2020-01-02 00:00:00;inf\n2020-01-02 01:00:00;-inf\n2020-01-02 02:00:00;1e309\n2020-01-02 03:00:00;Infinity\n"
)


@pytest.mark.parametrize("data", [("time;v\n" + HOURS + INFINITE).encode(), _long(INFINITE)])
def test_infinite_values_are_counted_not_stored(data, monkeypatch):
    profile = _both(data, monkeypatch)
    (column,) = profile.columns
    assert column.non_finite_count == 4 and column.missing_count == 0
    assert math.isfinite(column.min) and math.isfinite(column.max)
    assert column.numeric_count == profile.row_count - 4
    # The profile is plain JSON: PostgreSQL's JSONB takes it (Infinity it refuses).
    json.dumps(dataclasses.asdict(profile), default=str, allow_nan=False)


def test_huge_finite_values_stay_numbers():
    profile = profile_csv([("time;v\n" + HOURS + "2020-01-02 00:00:00;1e308\n2020-01-02 01:00:00;-1e308\n").encode()])
    assert (profile.columns[0].min, profile.columns[0].max, profile.columns[0].non_finite_count) == (-1e308, 1e308, 0)


def test_a_column_of_only_infinite_values_is_not_numeric():
    with pytest.raises(CsvProblem, match="no numeric column"):
        profile_csv([b"time;v\n2020-01-01 00:00:00;inf\n2020-01-01 01:00:00;-inf\n"])


def test_a_series_reads_infinite_values_as_missing():
    data = ("time;v\n" + HOURS + INFINITE).encode()
    profile = upload_pb.FileProfile(
        encoding="utf-8",
        separator=";",
        decimal_mark=".",
        has_header=True,
        timestamp_column="time",
        timestamp_format="%Y-%m-%d %H:%M:%S",
        columns=[upload_pb.ColumnProfile(name="v")],
    )
    times, values = read_series([data], profile, "v")
    assert len(times) == 14 and np.isnan(values[-4:]).all() and np.isfinite(values[:10]).all()


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b'time,v\n"2020-01-01 00:00:00,1\n2020-01-01 01:00:00,2\n2020-01-01 02:00:00,3\n', 2),
        (b'time,v\n2020-01-01 00:00:00,"1\n2020-01-01 01:00:00,2\n', 2),
        (_long('2030-01-01 00:00:00;"5\n2030-01-01 01:00:00;6\n'), 5002),
    ],
)
def test_a_quoted_field_left_open_is_named_by_its_line(data, line, monkeypatch):
    problem = _both(data, monkeypatch)
    assert isinstance(problem, CsvProblem) and problem.line == line
    assert "opens a quoted field that does not close on the line" in str(problem)


def test_quotes_that_close_and_a_quote_inside_a_value_are_fine():
    profile = profile_csv([b'"time";"v";"note"\n"2020-01-01 00:00:00";1;5"\n"2020-01-01 01:00:00";2;"a;b"\n'])
    assert profile.row_count == 2 and profile.timestamp_column == "time"


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"time;v\n2020-01-01 00:00:00;1\n2020-01-01 01:00:00,2\n2020-01-01 02:00:00;3\n", 3, "separated by ','"),
        (_long("2030-01-01 00:00:00,2\n"), 5002, "separated by ','"),
    ],
)
def test_mixed_separators_are_named(data, line, words, monkeypatch):
    problem = _both(data, monkeypatch)
    assert isinstance(problem, CsvProblem) and problem.line == line and words in str(problem), problem


def test_mixed_timestamp_formats_say_which_formats():
    problem = _problem(
        b"time;v\n2020-01-01 00:00:00;1\n01.01.2020 01:00;2\n2020-01-01 02:00:00;3\n01.01.2020 03:00;3\n"
    )
    assert "mixes timestamp formats" in str(problem)
    assert "'2000-06-05 00:30:00' (line 2)" in str(problem) and "'05.06.2000 00:30' (line 3)" in str(problem)


def test_a_column_with_few_timestamps_says_which_cell_is_not_one():
    problem = _problem(b"time;v\n2020-01-01 00:00:00;1\nnoon;2\nlater;3\n")
    assert "holds timestamps like '2000-06-05 00:30:00' in only 1 of 3 sampled rows (line 3: 'noon'" in str(problem)


def test_no_date_at_all_keeps_the_plain_message():
    assert "no column holds dates" in str(_problem(b"a;b\n1;2\n3;4\n"))


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"time;v\n2020-01-01T00:00:00+01:00;1\n2020-01-01T01:00:00;2\n", 3, "has no UTC offset"),
        (b"time;v\n2020-01-01T00:00:00;1\n2020-01-01T01:00:00Z;2\n", 3, "has a UTC offset"),
    ],
)
def test_zoned_and_naive_timestamps_are_not_mixed(data, line, words, monkeypatch):
    problem = _both(data, monkeypatch)
    assert isinstance(problem, CsvProblem) and problem.line == line and words in str(problem), problem


def test_zoned_then_naive_past_the_head_is_refused(monkeypatch):
    times = [datetime(1990, 1, 1) + timedelta(hours=i) for i in range(5000)]
    data = ("time;v\n" + "".join(f"{t:%Y-%m-%dT%H:%M:%S}Z;1\n" for t in times) + "2030-01-01T00:00:00;2\n").encode()
    problem = _both(data, monkeypatch)
    assert isinstance(problem, CsvProblem) and problem.line == 5002 and "has no UTC offset" in str(problem)


def test_different_offsets_in_one_column_are_fine():
    profile = profile_csv([b"time;v\n2020-03-29T01:00:00+01:00;1\n2020-03-29T03:00:00+02:00;2\n"])
    assert profile.timestamps_have_zone and profile.median_step == timedelta(hours=1)


@pytest.mark.parametrize("tail", ["2300-01-01 00:00:00;2\n", "1600-01-01 00:00:00;2\n"])
def test_dates_outside_the_years_computed_in_are_named(tail, monkeypatch):
    problem = _both(_long(tail), monkeypatch)
    assert isinstance(problem, CsvProblem) and problem.line == 5002 and "is outside the years" in str(problem)


def test_too_many_columns_are_refused_at_once_and_a_wide_header_still_reads():
    wide = MAX_COLUMNS
    header = "time;" + ";".join(f"column-with-a-long-name-{i}" for i in range(wide - 1))
    row = "2020-01-01 00:00:00;" + ";".join("1" for _ in range(wide - 1))
    assert len(header) > 16 * 1024
    assert len(profile_csv([f"{header}\n{row}\n".encode()]).columns) == wide - 1
    with pytest.raises(CsvProblem, match=f"at most {MAX_COLUMNS} columns"):
        profile_csv([f"{header};x\n{row};1\n".encode()])


def _problem(data: bytes) -> CsvProblem:
    with pytest.raises(CsvProblem) as caught:
        profile_csv([data])
    return caught.value
