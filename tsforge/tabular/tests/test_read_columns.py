"""read_csv_columns: a local file read with the upload profiler's dialect and reader."""

from __future__ import annotations

import numpy as np
import pytest

from tsforge.tabular.profiling import CsvProblem, profile_csv, read_csv_columns

GERMAN = (
    "Datum;Last [MW];Temperatur\n"
    "01.08.2000 00:00;25394,0;12,5\n"
    "01.08.2000 00:30;25010,5;\n"
    "02.08.2000 00:00;24 000;11,0\n"
    "12.08.2000 23:30;1,5e3;-3,25\n"
).encode("latin-1")


def test_a_german_file_is_read_day_first_with_decimal_commas():
    read = read_csv_columns([GERMAN])
    assert read.names == ("Last [MW]", "Temperatur")
    assert read.dialect.separator == ";" and read.dialect.decimal_mark == ","
    # Every day is <= 12, so only the column's format says which is the month: August.
    assert read.times.tolist()[0].isoformat() == "2000-08-01T00:00:00"
    assert [str(t) for t in read.times[2:]] == ["2000-08-02T00:00:00.000000", "2000-08-12T23:30:00.000000"]
    np.testing.assert_array_equal(read.values[0], [25394.0, 25010.5, np.nan, 1500.0])
    np.testing.assert_array_equal(read.values[1], [12.5, np.nan, 11.0, -3.25])


def test_it_reads_what_the_profiler_profiles_in_chunks_of_any_size():
    data = "time,load\n" + "".join(f"2024-01-01T{h:02d}:00:00+01:00,{h}.5\n" for h in range(24))
    chunks = [data.encode()[i : i + 7] for i in range(0, len(data), 7)]
    read = read_csv_columns(chunks)
    profile = profile_csv(chunks)
    assert read.times.size == profile.row_count
    assert read.times[0] == np.datetime64("2023-12-31T23:00:00")  # the offset applied: UTC
    assert read.times[-1].item() == profile.last_time.replace(tzinfo=None)
    np.testing.assert_array_equal(read.values[0], np.arange(24) + 0.5)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        # Month or day first? Neither the profiler nor this reader guesses.
        (b"time,load\n01/08/2000 00:00,1\n02/08/2000 00:00,2\n", "no timestamp column"),
        (b"time;load\n01.08.2000 00:00;1\n2000-08-02 00:00;2\n", "mixes timestamp formats"),
        (b"time;load\n01.08.2000 00:00;x\n", "no numeric column"),
        (b"time;load\n", "no data rows"),
    ],
)
def test_files_the_profiler_refuses_are_refused_with_its_words(data, says):
    with pytest.raises(CsvProblem, match=says):
        read_csv_columns([data])
