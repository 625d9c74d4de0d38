"""The CSV profiler on small hand-made files in every dialect users bring."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from tsforge.tabular.profiling import ColumnProfile, CsvProblem, FileProfile, preview_csv, profile_csv


def whole(data: bytes) -> list[bytes]:
    return [data]


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def problem(data: bytes) -> CsvProblem:
    with pytest.raises(CsvProblem) as caught:
        profile_csv(whole(data))
    return caught.value


SEMICOLON = b"time;load;temp\n2000-06-05 00:30:00;1.5;20\n2000-06-05 00:45:00;2.5;21\n2000-06-05 01:00:00;-3.25;22\n"


def test_semicolon_file_with_decimal_point():
    profile = profile_csv(whole(SEMICOLON))
    assert (profile.encoding, profile.separator, profile.decimal_mark) == ("utf-8", ";", ".")
    assert profile.has_header and profile.timestamp_column == "time"
    assert profile.timestamp_format == "%Y-%m-%d %H:%M:%S" and not profile.timestamps_have_zone
    assert profile.row_count == 3
    assert (profile.first_time, profile.last_time) == (utc(2000, 6, 5, 0, 30), utc(2000, 6, 5, 1, 0))
    assert profile.median_step == profile.min_step == timedelta(minutes=15)
    assert profile.columns == (
        ColumnProfile("load", 3, 0, 1.0, -3.25, 2.5),
        ColumnProfile("temp", 3, 0, 1.0, 20.0, 22.0),
    )


def test_comma_separated_file():
    profile = profile_csv(whole(b"time,value\n2000-06-05 00:30,1.5\n2000-06-05 01:30,2\n"))
    assert (profile.separator, profile.decimal_mark, profile.timestamp_format) == (",", ".", "%Y-%m-%d %H:%M")
    assert profile.columns[0] == ColumnProfile("value", 2, 0, 1.0, 1.5, 2.0)


def test_decimal_comma_with_semicolons_and_german_dates():
    data = b"Zeit;Last\n05.06.2000 00:30;1,5\n05.06.2000 00:45;2\n05.06.2000 01:00;-0,25\n"
    profile = profile_csv(whole(data))
    assert (profile.separator, profile.decimal_mark, profile.timestamp_format) == (";", ",", "%d.%m.%Y %H:%M")
    assert profile.first_time == utc(2000, 6, 5, 0, 30)
    assert profile.columns[0] == ColumnProfile("Last", 3, 0, 1.0, -0.25, 2.0)


def test_day_only_dates_with_seconds_variant():
    profile = profile_csv(whole(b"d;v\n05.06.2000;1\n06.06.2000;2\n"))
    assert profile.timestamp_format == "%d.%m.%Y" and profile.median_step == timedelta(days=1)
    profile = profile_csv(whole(b"d;v\n05.06.2000 00:00:10;1\n05.06.2000 00:00:20;2\n"))
    assert profile.timestamp_format == "%d.%m.%Y %H:%M:%S" and profile.median_step == timedelta(seconds=10)


def test_tab_separated_file():
    profile = profile_csv(whole(b"time\ta\tb\n2000-06-05 00:30:00\t1\t2\n2000-06-05 00:40:00\t3\t4\n"))
    assert profile.separator == "\t" and [c.name for c in profile.columns] == ["a", "b"]


def test_utf8_byte_order_mark():
    profile = profile_csv(whole(b"\xef\xbb\xbf" + SEMICOLON))
    assert profile.encoding == "utf-8-sig" and profile.timestamp_column == "time"


def test_latin1_header():
    data = "Zeit;Durchfluss (m³/h);Prüfwert\n2000-06-05 00:30:00;1;2\n2000-06-05 00:45:00;3;4\n".encode("latin-1")
    profile = profile_csv(whole(data))
    assert profile.encoding == "latin-1"
    assert [c.name for c in profile.columns] == ["Durchfluss (m³/h)", "Prüfwert"]


def test_iso_timestamps_with_zone_are_converted_to_utc():
    data = b"time;v\n2000-06-05T00:30:00+01:00;1\n2000-06-05T01:30:00+01:00;2\n"
    profile = profile_csv(whole(data))
    assert profile.timestamp_format == "ISO8601" and profile.timestamps_have_zone
    assert profile.first_time == utc(2000, 6, 4, 23, 30) and profile.last_time == utc(2000, 6, 5, 0, 30)


def test_iso_timestamps_with_fractions_and_no_zone():
    profile = profile_csv(whole(b"t,v\n2000-06-05T00:30:00.5,1\n2000-06-05T00:30:01.0,2\n"))
    assert profile.timestamp_format == "ISO8601" and not profile.timestamps_have_zone
    assert profile.median_step == timedelta(milliseconds=500)


def test_file_without_header():
    profile = profile_csv(whole(b"2000-06-05 00:30:00;1\n2000-06-05 00:45:00;2\n"))
    assert not profile.has_header and profile.row_count == 2
    assert profile.timestamp_column == "column_1" and profile.columns[0].name == "column_2"


def test_timestamp_column_need_not_come_first():
    profile = profile_csv(whole(b"id;time;v\n7;2000-06-05 00:30:00;1\n8;2000-06-05 00:45:00;2\n"))
    assert profile.timestamp_column == "time" and [c.name for c in profile.columns] == ["id", "v"]


STATS = (
    b"time;a;b;note\r\n"
    b"2000-01-01 00:00:00;1;x;\r\n"
    b"2000-01-01 00:10:00;;2;\r\n"  # a missing
    b"2000-01-01 00:20:00;3;NA;\r\n"  # b missing
    b"2000-01-01 00:20:00;4;5;\r\n"  # duplicate
    b"2000-01-01 00:50:00;5;6;\r\n"  # gap of 30 min
    b"2000-01-01 00:40:00;-6;7;\r\n"  # out of order
    b"2000-01-01 00:55:00;7;8;\r\n"
    b"\r\n"
    b"\r\n"
)


def test_exact_statistics():
    profile = profile_csv(whole(STATS))
    assert profile.row_count == 7
    assert (profile.first_time, profile.last_time) == (utc(2000, 1, 1), utc(2000, 1, 1, 0, 55))
    # positive steps: 10, 10, 30, 15 minutes
    assert profile.median_step == timedelta(minutes=12, seconds=30)
    assert profile.min_step == timedelta(minutes=10)
    assert profile.gap_count == 1
    assert profile.duplicate_timestamp_count == 1
    assert profile.out_of_order_count == 1
    a, b, note = profile.columns
    assert a == ColumnProfile("a", 6, 1, 1.0, -6.0, 7.0)
    assert b == ColumnProfile("b", 5, 1, 5 / 6, 2.0, 8.0)
    assert note == ColumnProfile("note", 0, 7, 0.0, None, None)


def test_single_row_has_no_steps():
    profile = profile_csv(whole(b"t;v\n2000-01-01 00:00:00;1\n"))
    assert profile.row_count == 1 and profile.median_step is None and profile.min_step is None
    assert profile.gap_count == 0


def test_seven_byte_chunks_give_the_same_profile():
    data = (
        "Zeit;Prüfwert €\n" + "".join(f"2000-01-01 {h:02d}:{m:02d}:00;{h},{m}5\n" for h in range(24) for m in (0, 30))
    ).encode("utf-8")
    assert profile_csv(in_pieces(data, 7)) == profile_csv(whole(data))
    assert profile_csv(in_pieces(b"\xef\xbb\xbf" + STATS, 7)) == profile_csv(whole(b"\xef\xbb\xbf" + STATS))
    latin = data.decode("utf-8").replace("€", "").encode("latin-1")
    assert profile_csv(in_pieces(latin, 7)) == profile_csv(whole(latin))


def test_rows_cross_reading_blocks(monkeypatch):
    monkeypatch.setattr("tsforge.tabular.profiling.BLOCK_BYTES", 16)
    assert profile_csv(in_pieces(STATS, 5)) == profile_csv(whole(STATS))


def test_big_file_streams_past_the_head():
    times = [datetime(2000, 1, 1) + timedelta(minutes=15 * i) for i in range(20_000)]
    data = ("t;v\n" + "".join(f"{t:%Y-%m-%d %H:%M:%S};{i}\n" for i, t in enumerate(times))).encode()
    profile = profile_csv(in_pieces(data, 1000))
    assert profile.row_count == 20_000 and profile.gap_count == 0
    assert profile.columns[0].max == 19_999.0


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"time;value\n", b"time;value\n\n"])
def test_empty_files(data):
    assert problem(data).line is None


def test_binary_file():
    found = problem(b"time;v\n2000-01-01 00:00:00;1\n\x00\x01\x02\x03garbage\n")
    assert found.line == 3 and "binary" in str(found)
    assert "binary" in str(problem(bytes(range(256)) * 20))


def test_binary_after_the_head():
    data = b"t;v\n" + b"2000-01-01 00:00:00;1\n" * 4000 + b"\x00\x00\n"
    found = problem(data)
    assert found.line == 4002 and "NUL" in str(found)


def test_no_consistent_separator():
    assert "separator" in str(problem(b"hello world\nthis is text\n"))


def test_no_timestamp_column():
    assert "no timestamp column" in str(problem(b"a;b\n1;2\n3;4\n"))


def test_no_numeric_column():
    assert "no numeric column" in str(problem(b"t;name\n2000-01-01 00:00:00;x\n2000-01-01 01:00:00;\n"))
    assert "no numeric column" in str(problem(b"t\n2000-01-01 00:00:00\n2000-01-01 01:00:00\n"))


def test_unparseable_timestamp_names_line_and_value():
    found = problem(
        b"t;v\n2000-01-01 00:00:00;1\n2000-01-01 01:00:00;2\n2000-13-45 00:00:00;3\n2000-01-01 03:00:00;2\n"
    )
    assert found.line == 4 and "'2000-13-45 00:00:00'" in str(found) and "line 4" in str(found)


def test_missing_timestamp_names_line():
    found = problem(b"t;v\n2000-01-01 00:00:00;1\n;2\n2000-01-01 01:00:00;2\n")
    assert found.line == 3 and "no timestamp" in str(found)


def test_row_with_more_fields():
    found = problem(b"t;v\n2000-01-01 00:00:00;1\n2000-01-01 01:00:00;2;9\n2000-01-01 02:00:00;2\n")
    assert found.line == 3 and "3 fields" in str(found) and "header has 2" in str(found)


def test_row_with_fewer_fields():
    found = problem(b"t;v;w\n2000-01-01 00:00:00;1;2\n2000-01-01 01:00:00;2;3\n2000-01-01 02:00:00;2\n")
    assert found.line == 4 and "2 fields" in str(found)


def test_field_count_checked_across_chunks_and_after_blank_lines():
    data = b"t;v\n" + b"2000-01-01 00:00:00;1\n" * 5000 + b"\n" + b"2000-01-01 00:00:00\n"
    with pytest.raises(CsvProblem) as caught:
        profile_csv(in_pieces(data, 7000))
    assert caught.value.line == 5003


def test_earlier_bad_timestamp_wins_over_later_bad_line():
    found = problem(b"t;v\n2000-01-01 00:00:00;1\nnoon;2\n2000-01-01 01:00:00;2;3\n")
    assert found.line == 3


def test_utf8_broken_after_the_head():
    data = b"t;v\n" + b"2000-01-01 00:00:00;1\n" * 4000 + b"2000-01-01 00:00:00;\xfc\n"
    found = problem(data)
    assert found.line == 4002 and "UTF-8" in str(found)


def test_preview_parses_first_rows():
    profile = profile_csv(whole(STATS))
    columns, rows = preview_csv(in_pieces(STATS, 7), profile, 3)
    assert columns == ["a", "b", "note"]
    assert [time for time, _ in rows] == [utc(2000, 1, 1), utc(2000, 1, 1, 0, 10), utc(2000, 1, 1, 0, 20)]
    assert rows[0][1][0] == 1.0 and math.isnan(rows[0][1][1]) and math.isnan(rows[0][1][2])
    assert math.isnan(rows[1][1][0]) and rows[1][1][1] == 2.0


def test_preview_of_decimal_comma_file_without_header():
    data = b"05.06.2000 00:30;1,5\n05.06.2000 00:45;2,5\n"
    profile = profile_csv(whole(data))
    columns, rows = preview_csv(whole(data), profile, 20)
    assert columns == ["column_2"] and rows == [(utc(2000, 6, 5, 0, 30), [1.5]), (utc(2000, 6, 5, 0, 45), [2.5])]


def test_preview_reads_only_what_it_needs():
    def endless():
        yield b"t;v\n"
        while True:
            yield b"2000-01-01 00:00:00;1\n" * 100

    profile = FileProfile(
        "utf-8",
        ";",
        ".",
        True,
        "t",
        "%Y-%m-%d %H:%M:%S",
        False,
        1,
        utc(2000, 1, 1),
        utc(2000, 1, 1),
        None,
        None,
        0,
        0,
        0,
        (ColumnProfile("v", 1, 0, 1.0, 1.0, 1.0),),
    )
    columns, rows = preview_csv(endless(), profile, 5)
    assert columns == ["v"] and len(rows) == 5


DIALECTS = [
    SEMICOLON,
    b"\xef\xbb\xbf" + SEMICOLON,
    STATS,
    b"time,value\n2000-06-05 00:30,1.5\n2000-06-05 01:30,2\n",
    b"Zeit;Last\n05.06.2000 00:30;1,5\n05.06.2000 00:45;2\n05.06.2000 01:00;-0,25\n",
    b"d;v\n05.06.2000;1\n06.06.2000;NaN\n07.06.2000;1e3\n",
    b"time\ta\tb\n2000-06-05 00:30:00\t1\t2\n\n2000-06-05 00:40:00\t3\t\n",
    "Zeit;Prüfwert\n2000-06-05 00:30:00;1\n2000-06-05 00:45:00;0.1\n".encode("latin-1"),
    b"time;v\n2000-06-05T00:30:00+01:00;1\n2000-06-05T01:30:00Z;2\n",
    b"t,v\n2000-06-05T00:30:00.5,1\n2000-06-05T00:30:01.0,0.3\n2000-06-05,7\n",
    b"2000-06-05 00:30:00;1\n2000-06-05 00:45:00;2\n",
    b"id;time;v\n7;2000-06-05 00:30:00;1\n8;2000-06-05 00:45:00;2\n",
]


@pytest.mark.parametrize("data", DIALECTS)
def test_arrow_and_pandas_read_every_dialect_alike(data, monkeypatch):
    fast = profile_csv(in_pieces(data, 16))
    monkeypatch.setattr("tsforge.tabular.profiling._arrow_rows", lambda block, dialect: None)
    assert profile_csv(in_pieces(data, 16)) == fast


def test_plain_blocks_never_reach_pandas(monkeypatch):
    def refuse(*arguments):
        raise AssertionError("a plain block went to pandas")

    monkeypatch.setattr("tsforge.tabular.profiling._pandas_rows", refuse)
    monkeypatch.setattr("tsforge.tabular.profiling.BLOCK_BYTES", 64)
    for data in (SEMICOLON, DIALECTS[4], DIALECTS[8], DIALECTS[10]):
        assert profile_csv(in_pieces(data, 7)).row_count >= 2


def _profile_or_problem(data: bytes) -> FileProfile | str:
    try:
        return profile_csv(in_pieces(data, 4096))
    except CsvProblem as caught:
        return f"line {caught.line}: {caught}"


@pytest.mark.parametrize(
    "cell",
    [
        "2000-06-05T00:30:00",
        "2000-6-05 00:30:00",
        "2000-06-05 00:30",
        "2000-06-05 0:30:00",
        "2000-06-05 24:00:00",
        "2000-02-30 00:30:00",
        "2000-06-05 00:30:00.5",
    ],
)
def test_cells_off_the_format_read_alike_by_both_readers(cell, monkeypatch):
    # Past the head the dialect is read from, so the format is settled before the cell.
    times = [datetime(1990, 1, 1) + timedelta(hours=i) for i in range(5000)]
    data = ("time;v\n" + "".join(f"{t:%Y-%m-%d %H:%M:%S};1\n" for t in times) + f"{cell};2\n").encode()
    fast = _profile_or_problem(data)
    monkeypatch.setattr("tsforge.tabular.profiling._arrow_rows", lambda block, dialect: None)
    assert _profile_or_problem(data) == fast
    if cell in ("2000-06-05T00:30:00", "2000-06-05 00:30", "2000-02-30 00:30:00"):
        assert fast.startswith("line 5002: ") and cell in fast
