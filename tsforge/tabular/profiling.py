"""Profiles an uploaded CSV file of time series while it streams from the object store.

The file may be hundreds of MB, so it is never held whole: the dialect comes from
its first ~64 KiB, then it is read in blocks of whole lines (~1 MiB) and each block
adds to running statistics. Arrow's CSV reader parses a plain block (every cell a
number, a timestamp or missing) two to three times as fast as pandas; a block it
cannot take as is goes to pandas' C parser, which words what is wrong with which
line. Steps between timestamps are kept as counts per distinct step, which gives the
exact median in memory that grows with the number of distinct steps (a handful for
regularly sampled series), not with the rows.
"""

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv

from tsforge.tabular.dialect import (
    END_TIME,
    FIRST_TIME,
    ISO8601,
    CsvDialect,
    detect_dialect,
    dialect_as_described,
    mixed_zone_message,
    parse_timestamps,
    take_head,
    timestamp_example,
    zone_mismatch,
)
from tsforge.tabular.lines import LineChecker, line_blocks
from tsforge.tabular.problem import CsvProblem

__all__ = ["ColumnProfile", "CsvColumns", "CsvProblem", "FileProfile", "preview_csv", "profile_csv", "read_csv_columns"]

# Bytes of whole lines parsed at a time: Arrow's reader is as fast from 256 KiB up, and
# the temporaries stay near a few MiB.
BLOCK_BYTES = 1 << 20
PREVIEW_BYTES_PER_ROW = 256  # a preview of n rows parses about this much per row first
# Formats that are forms of ISO 8601: (width, (position, separator) ...) of a zero-padded cell.
_ISO_LAYOUTS = {
    "%Y-%m-%d %H:%M:%S": (19, ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"))),
    "%Y-%m-%d %H:%M": (16, ((4, "-"), (7, "-"), (10, " "), (13, ":"))),
}
# pandas' default missing-value markers (read_csv's na_values), which Arrow must treat the same.
NA_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_US = (FIRST_TIME - _EPOCH) // timedelta(microseconds=1)
_END_US = (END_TIME - _EPOCH) // timedelta(microseconds=1)
_RANGE_TEXT = f"the years tsforge reads ({FIRST_TIME.year}..{END_TIME.year - 1})"


@dataclass(frozen=True)
class ColumnProfile:
    """One value column: numeric_share = numeric_count / (rows - missing_count), 0 when all are missing.

    numeric_count counts the cells that are finite numbers, non_finite_count those that
    read as ±infinity ("inf", "-inf", "Infinity", or a number too large for a double,
    such as 1e309): they are neither missing nor numeric, are left out of min and max
    (which are finite or None, so the profile is plain JSON), and a series read from
    the column takes them as missing values.
    """

    name: str
    numeric_count: int
    missing_count: int
    numeric_share: float
    min: float | None
    max: float | None
    non_finite_count: int = 0


@dataclass(frozen=True)
class FileProfile:
    """What reading a whole CSV file told: its dialect, its time axis and its value columns.

    first_time and last_time are the earliest and latest timestamps, in UTC. Steps
    are between consecutive rows in file order: median_step and min_step are over
    the positive steps (None without any), gap_count counts steps longer than 1.5
    median steps, duplicate_timestamp_count rows equal to the previous row's time
    and out_of_order_count rows earlier than it.
    """

    encoding: str
    separator: str
    decimal_mark: str
    has_header: bool
    timestamp_column: str
    timestamp_format: str
    timestamps_have_zone: bool
    row_count: int
    first_time: datetime
    last_time: datetime
    median_step: timedelta | None
    min_step: timedelta | None
    gap_count: int
    duplicate_timestamp_count: int
    out_of_order_count: int
    columns: tuple[ColumnProfile, ...]


@dataclass(frozen=True)
class _Rows:
    """Parsed data rows of one block; blank rows are left out."""

    times: np.ndarray  # int64 microseconds since the epoch, UTC
    values: list[np.ndarray]  # float64 per value column, NaN where missing or not numeric
    missing: list[np.ndarray]  # bool per value column: the cell is empty or NA


def profile_csv(chunks: Iterable[bytes]) -> FileProfile:
    """Reads a whole CSV file, given as byte chunks of any size, and profiles it.

    Raises CsvProblem when the file is empty, binary, has no consistent separator,
    no timestamp column, no numeric column, an unparseable timestamp or a line whose
    field count differs from the header's.
    """
    head, complete, all_chunks = take_head(chunks)
    dialect = detect_dialect(head, complete)
    times = _TimeAxis()
    columns = [_ValueColumn() for _ in dialect.value_indexes]
    for rows in _read_rows(all_chunks, dialect, BLOCK_BYTES):
        times.add(rows.times)
        for column, values, missing in zip(columns, rows.values, rows.missing):
            column.add(values, missing)
    if times.row_count == 0:
        raise CsvProblem("the file has only a header line and no data rows")
    if not any(column.numeric_count for column in columns):
        raise CsvProblem("no numeric column: no value column holds a single number")
    names = [dialect.column_names[i] for i in dialect.value_indexes]
    median_step = times.median_step()
    return FileProfile(
        encoding=dialect.encoding,
        separator=dialect.separator,
        decimal_mark=dialect.decimal_mark,
        has_header=dialect.has_header,
        timestamp_column=dialect.column_names[dialect.timestamp_index],
        timestamp_format=dialect.timestamp_format,
        timestamps_have_zone=dialect.timestamps_have_zone,
        row_count=times.row_count,
        first_time=_EPOCH + timedelta(microseconds=times.first),
        last_time=_EPOCH + timedelta(microseconds=times.last),
        median_step=None if median_step is None else timedelta(microseconds=median_step),
        min_step=None if times.step_values.size == 0 else timedelta(microseconds=int(times.step_values[0])),
        gap_count=times.steps_longer_than(1.5 * median_step) if median_step is not None else 0,
        duplicate_timestamp_count=times.duplicates,
        out_of_order_count=times.out_of_order,
        columns=tuple(column.profile(name, times.row_count) for name, column in zip(names, columns)),
    )


def preview_csv(
    chunks: Iterable[bytes], profile: FileProfile, rows: int
) -> tuple[list[str], list[tuple[datetime, list[float]]]]:
    """The value column names and the first `rows` data rows of a profiled file.

    Values are NaN where missing or not numeric. Reads only as much of the stream as
    it needs. Raises CsvProblem when those rows cannot be read as the profile says.
    """
    head, complete, all_chunks = take_head(chunks)
    dialect = dialect_as_described(
        head,
        complete,
        encoding=profile.encoding,
        separator=profile.separator,
        decimal_mark=profile.decimal_mark,
        has_header=profile.has_header,
        timestamp_column=profile.timestamp_column,
        timestamp_format=profile.timestamp_format,
        timestamps_have_zone=profile.timestamps_have_zone,
    )
    names = [dialect.column_names[i] for i in dialect.value_indexes]
    preview: list[tuple[datetime, list[float]]] = []
    if rows <= 0:
        return names, preview
    for block in _read_rows(all_chunks, dialect, min(BLOCK_BYTES, PREVIEW_BYTES_PER_ROW * rows)):
        for row, time in enumerate(block.times[: rows - len(preview)].tolist()):
            preview.append((_EPOCH + timedelta(microseconds=time), [float(v[row]) for v in block.values]))
        if len(preview) >= rows:
            break
    return names, preview


@dataclass(frozen=True)
class CsvColumns:
    """Every value column of a CSV file, read as the profiler reads it.

    times are datetime64[us] in UTC, in file order (naive timestamps are UTC, ones
    with an offset are converted); values[i] belongs to names[i] and is float64, NaN
    where a cell is missing or not numeric (±infinity stays).
    """

    dialect: CsvDialect
    names: tuple[str, ...]
    times: np.ndarray
    values: tuple[np.ndarray, ...]


def read_csv_columns(chunks: Iterable[bytes]) -> CsvColumns:
    """Reads a whole CSV file, given as byte chunks, with the dialect profile_csv detects
    (separator, decimal mark, encoding, header, timestamp column and format): one reader
    for uploads and for local files, so both accept the same files and read them alike.

    The timestamp format is chosen once for the column, from the head of the file, and
    every row must then parse in it: a dotted date is always day.month.year
    (05.06.2000 is the 5th of June), never guessed per value. Raises CsvProblem as
    profile_csv does (no timestamp column, a line that does not parse, no data rows,
    no numeric column).
    """
    head, complete, all_chunks = take_head(chunks)
    dialect = detect_dialect(head, complete)
    times: list[np.ndarray] = []
    values: list[list[np.ndarray]] = [[] for _ in dialect.value_indexes]
    for rows in _read_rows(all_chunks, dialect, BLOCK_BYTES):
        times.append(rows.times)
        for column, block in zip(values, rows.values):
            column.append(block)
    if not times or not sum(block.size for block in times):
        raise CsvProblem("the file has only a header line and no data rows")
    columns = tuple(np.concatenate(column).astype(np.float64) for column in values)
    if not any(np.isfinite(column).any() for column in columns):
        raise CsvProblem("no numeric column: no value column holds a single number")
    return CsvColumns(
        dialect=dialect,
        names=tuple(dialect.column_names[i] for i in dialect.value_indexes),
        times=np.concatenate(times).astype("datetime64[us]"),
        values=columns,
    )


def _read_rows(chunks: Iterator[bytes], dialect: CsvDialect, block_bytes: int) -> Iterator[_Rows]:
    """The data rows, a block of whole lines (about `block_bytes`) at a time."""
    checker = LineChecker(
        dialect.separator,
        dialect.field_count,
        header_named=dialect.has_header,
        check_utf8=dialect.encoding != "latin-1",
    )
    to_skip = dialect.lines_before_data
    for first_line, block in line_blocks(chunks, dialect.encoding, block_bytes):
        if to_skip:
            block, skipped = _without_first_lines(block, to_skip)
            to_skip -= skipped
            first_line += skipped
            if not block:
                continue
        rows = _arrow_rows(block, dialect)
        if rows is not None:
            yield rows
            continue
        good, problem = checker.check(block, first_line)
        if good:
            yield _pandas_rows(good, dialect, first_line)
        if problem is not None:
            raise problem


def _without_first_lines(block: bytes, count: int) -> tuple[bytes, int]:
    """The block after its first `count` lines, and how many lines that dropped."""
    start = 0
    for skipped in range(count):
        end = block.find(b"\n", start)
        if end < 0:
            return b"", skipped + (start < len(block))
        start = end + 1
    return block[start:], count


def _arrow_rows(block: bytes, dialect: CsvDialect) -> _Rows | None:
    """The block's rows parsed by Arrow's CSV reader, or None when the block is not
    plain: quotes, a missing timestamp, a cell that is neither a number nor a timestamp
    of the format, a line of the wrong field count. pandas then reads it, and words its
    problems with line numbers."""
    if b'"' in block:
        return None
    names = [str(i) for i in range(dialect.field_count)]
    value_names = [names[i] for i in dialect.value_indexes]
    time_name = names[dialect.timestamp_index]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(block),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False, block_size=len(block) + 1),
            parse_options=pa_csv.ParseOptions(delimiter=dialect.separator, quote_char=False, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={time_name: pa.string(), **dict.fromkeys(value_names, pa.float64())},
                null_values=NA_VALUES,
                strings_can_be_null=True,
                decimal_point=dialect.decimal_mark,
            ),
        )
        cells = table.column(time_name)
        if cells.null_count:
            return None
        times = _arrow_timestamps(cells, dialect.timestamp_format, dialect.timestamps_have_zone)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if times is None or (times.size and (times.min() < _FIRST_US or times.max() >= _END_US)):
        return None  # pandas names the line
    columns = [table.column(name) for name in value_names]
    return _Rows(times, [c.to_numpy() for c in columns], [c.is_null().to_numpy() for c in columns])


def _arrow_timestamps(cells: pa.ChunkedArray, timestamp_format: str, have_zone: bool) -> np.ndarray | None:
    """int64 microseconds since the epoch, UTC; None unless every cell parses (ISO cells
    with a UTC offset when `have_zone`, all without one otherwise)."""
    if _fixed_width_iso(cells, timestamp_format):
        # Arrow's ISO 8601 cast reads these 4x as fast as strptime, and exactly alike.
        return cells.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
    if timestamp_format != ISO8601:
        parsed = pa_compute.strptime(cells, format=timestamp_format, unit="us", error_is_null=True)
        return None if parsed.null_count else parsed.cast(pa.int64()).to_numpy()
    # Arrow's cast to a zoned type refuses a cell without an offset, and the other way round.
    try:
        return cells.cast(pa.timestamp("us", tz="UTC") if have_zone else pa.timestamp("us")).cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:
        return None


def _fixed_width_iso(cells: pa.ChunkedArray, timestamp_format: str) -> bool:
    """Whether every cell has the zero-padded width and the separators of a format that
    is a form of ISO 8601, so that Arrow's ISO cast reads them as the format would."""
    layout = _ISO_LAYOUTS.get(timestamp_format)
    if layout is None:
        return False
    width, separators = layout
    for chunk in cells.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
        if np.any(np.diff(offsets) != width):
            return False
        text = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, width)
        if any(np.any(text[:, at] != ord(separator)) for at, separator in separators):
            return False
    return True


def _pandas_rows(block: bytes, dialect: CsvDialect, first_line: int) -> _Rows:
    try:
        frame = pd.read_csv(
            io.BytesIO(block),
            sep=dialect.separator,
            decimal=dialect.decimal_mark,
            encoding="utf-8",
            header=None,
            names=list(range(dialect.field_count)),
            # Blank lines stay rows, so row k of the block is line k + first_line.
            skip_blank_lines=False,
            dtype={dialect.timestamp_index: object},
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise CsvProblem(f"the file cannot be read as CSV: {error}") from error
    return _parse_rows(frame, dialect, first_line)


def _parse_rows(frame: pd.DataFrame, dialect: CsvDialect, first_line: int) -> _Rows:
    cells = frame[dialect.timestamp_index]
    if dialect.timestamp_format == ISO8601:
        row = zone_mismatch(cells, dialect.timestamps_have_zone)
        if row is not None:
            line = first_line + row
            raise CsvProblem(mixed_zone_message(line, str(cells.iloc[row]).strip(), dialect.timestamps_have_zone), line)
    parsed = parse_timestamps(cells, dialect.timestamp_format)
    times = parsed.dt.as_unit("us").array.asi8
    values = [_to_float(frame[i], dialect.decimal_mark) for i in dialect.value_indexes]
    missing = [frame[i].isna().to_numpy() for i in dialect.value_indexes]
    unparsed = parsed.isna().to_numpy()
    if not unparsed.any():
        _check_range(times, cells, first_line + np.arange(len(times)))
        return _Rows(times, values, missing)
    blank = unparsed & cells.isna().to_numpy()  # a fresh, writable array
    blank[unparsed] |= cells[unparsed].str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    for column_missing in missing:
        blank &= column_missing
    bad = unparsed & ~blank
    if bad.any():
        row = int(np.argmax(bad))
        line = first_line + row
        cell = cells.iloc[row]
        if pd.isna(cell) or not str(cell).strip():
            raise CsvProblem(f"line {line} has no timestamp", line)
        example = timestamp_example(dialect.timestamp_format)
        if _out_of_range(str(cell).strip(), dialect.timestamp_format):
            raise CsvProblem(f"line {line}: {cell!r} is outside {_RANGE_TEXT}", line)
        raise CsvProblem(f"line {line}: {cell!r} is not a timestamp like {example!r}", line)
    keep = ~blank
    _check_range(times[keep], cells[keep], first_line + np.flatnonzero(keep))
    return _Rows(times[keep], [v[keep] for v in values], [m[keep] for m in missing])


def _check_range(times: np.ndarray, cells: pd.Series, lines: np.ndarray) -> None:
    """Raises CsvProblem for the first time outside [FIRST_TIME, END_TIME)."""
    outside = np.flatnonzero((times < _FIRST_US) | (times >= _END_US))
    if outside.size:
        row = int(outside[0])
        line = int(lines[row])
        raise CsvProblem(f"line {line}: {str(cells.iloc[row]).strip()!r} is outside {_RANGE_TEXT}", line)


def _out_of_range(cell: str, timestamp_format: str) -> bool:
    """Whether a cell pandas could not parse (in nanoseconds) is a date outside their range."""
    try:
        pd.to_datetime(pd.Series([cell]), format=timestamp_format, utc=True, errors="raise")
    except pd.errors.OutOfBoundsDatetime:
        return True
    except (ValueError, TypeError):
        return False
    return False


_EXPONENT_NUMBER = r"\s*[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*"


def _to_float(column: pd.Series, decimal_mark: str) -> np.ndarray:
    """Cells as numbers, NaN where missing or not numeric."""
    if column.dtype.kind in "iuf":
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    if column.dtype.kind == "b":
        return np.full(len(column), np.nan)
    # The C parser keeps a block's whole column as text when one cell is not a number.
    text = column.astype(object).where(column.notna(), None).astype(str)
    if decimal_mark == ",":
        text = text.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    # pandas (with numpy 2.4) gives NaN, not infinity, for a number too large for a double
    # ("1e309"); Arrow and Python's float() give ±infinity, which is what the cell says.
    unread = np.isnan(numbers)
    if unread.any():
        huge = unread & text.str.fullmatch(_EXPONENT_NUMBER).fillna(False).to_numpy(dtype=bool)
        numbers[huge] = [float(cell) for cell in text[huge]]
    return numbers


class _TimeAxis:
    """Running statistics of the timestamps in file order."""

    def __init__(self) -> None:
        self.row_count = 0
        self.first = 0
        self.last = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.step_values = np.empty(0, dtype=np.int64)  # sorted distinct positive steps
        self.step_counts = np.empty(0, dtype=np.int64)
        self._previous: int | None = None

    def add(self, times: np.ndarray) -> None:
        if times.size == 0:
            return
        low, high = int(times.min()), int(times.max())
        self.first = low if self.row_count == 0 else min(self.first, low)
        self.last = high if self.row_count == 0 else max(self.last, high)
        self.row_count += times.size
        steps = np.diff(times) if self._previous is None else np.diff(times, prepend=self._previous)
        self._previous = int(times[-1])
        self.duplicates += int(np.count_nonzero(steps == 0))
        self.out_of_order += int(np.count_nonzero(steps < 0))
        values, counts = np.unique(steps[steps > 0], return_counts=True)
        if values.size:
            merged, where = np.unique(np.concatenate((self.step_values, values)), return_inverse=True)
            self.step_counts = np.bincount(
                where, weights=np.concatenate((self.step_counts, counts)), minlength=merged.size
            ).astype(np.int64)
            self.step_values = merged

    def median_step(self) -> float | None:
        total = int(self.step_counts.sum())
        if total == 0:
            return None
        cumulative = np.cumsum(self.step_counts)

        def kth(k: int) -> int:
            return int(self.step_values[np.searchsorted(cumulative, k, side="right")])

        if total % 2:
            return float(kth(total // 2))
        return (kth(total // 2 - 1) + kth(total // 2)) / 2

    def steps_longer_than(self, limit: float) -> int:
        return int(self.step_counts[self.step_values > limit].sum())


class _ValueColumn:
    """Running statistics of one value column."""

    def __init__(self) -> None:
        self.numeric_count = 0
        self.missing_count = 0
        self.non_finite_count = 0
        self.min: float | None = None
        self.max: float | None = None

    def add(self, values: np.ndarray, missing: np.ndarray) -> None:
        self.missing_count += int(np.count_nonzero(missing))
        finite = np.isfinite(values)
        numeric = int(np.count_nonzero(finite))
        self.non_finite_count += int(np.count_nonzero(np.isinf(values)))
        if numeric:
            self.numeric_count += numeric
            numbers = values if numeric == values.size else values[finite]
            low, high = float(numbers.min()), float(numbers.max())
            self.min = low if self.min is None else min(self.min, low)
            self.max = high if self.max is None else max(self.max, high)

    def profile(self, name: str, row_count: int) -> ColumnProfile:
        present = row_count - self.missing_count
        return ColumnProfile(
            name=name,
            numeric_count=self.numeric_count,
            missing_count=self.missing_count,
            numeric_share=self.numeric_count / present if present else 0.0,
            min=self.min,
            max=self.max,
            non_finite_count=self.non_finite_count,
        )
