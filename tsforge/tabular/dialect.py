"""Detects how a CSV file of time series is written, from its first bytes.

Users bring `;`- or `,`- or tab-separated files, decimal points or commas, UTF-8
(with or without byte-order mark) or Latin-1, and timestamps such as
``2000-06-05 00:30:00`` or ``05.06.2000 00:30``. The dialect found here tells the
streaming profiler how to read the rest of the file.
"""

import csv
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from tsforge.tabular.problem import CsvProblem

HEAD_BYTES = 64 * 1024
# A first line longer than this is not a time-series CSV file.
MAX_HEAD_BYTES = 1024 * 1024
MAX_SAMPLE_LINES = 1000

UTF8_BOM = b"\xef\xbb\xbf"
# Times are computed in nanoseconds (datetime64[ns]: 1677-09-21 to 2262-04-11), windows
# reach up to a year around a time: every timestamp lies in [FIRST_TIME, END_TIME).
FIRST_TIME = datetime(1680, 1, 1, tzinfo=UTC)
END_TIME = datetime(2261, 1, 1, tzinfo=UTC)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r")
ISO8601 = "ISO8601"
# Most specific first: the first format that parses a column's sample wins ties.
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    ISO8601,
)
# ';' and tab hardly ever occur inside values, ',' does (as a decimal mark).
SEPARATORS = (";", "\t", ",")

_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZONE_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_DECIMAL_COMMA_NUMBER = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")
_DECIMAL_POINT_NUMBER = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")


@dataclass(frozen=True)
class CsvDialect:
    """How to read one CSV file; column positions are 0-based."""

    encoding: str
    separator: str
    decimal_mark: str
    has_header: bool
    leading_blank_lines: int
    column_names: tuple[str, ...]
    timestamp_index: int
    timestamp_format: str
    timestamps_have_zone: bool

    @property
    def field_count(self) -> int:
        return len(self.column_names)

    @property
    def lines_before_data(self) -> int:
        return self.leading_blank_lines + int(self.has_header)

    @property
    def value_indexes(self) -> list[int]:
        return [i for i in range(self.field_count) if i != self.timestamp_index]


@dataclass(frozen=True)
class _Sample:
    """The head of the file as text lines: (1-based line number, text), blanks left out."""

    encoding: str
    lines: list[tuple[int, str]]
    leading_blank_lines: int


def take_head(chunks: Iterable[bytes]) -> tuple[bytes, bool, Iterator[bytes]]:
    """Reads the first ~64 KiB (whole lines, at most 1 MiB) of a chunk stream.

    Returns the head, whether it is the whole file, and an iterator over all the
    file's chunks, the head's included.
    """
    source = iter(chunks)
    taken: list[bytes] = []
    size = 0
    has_line_end = False
    for chunk in source:
        taken.append(chunk)
        size += len(chunk)
        has_line_end = has_line_end or b"\n" in chunk
        if size >= MAX_HEAD_BYTES or (size >= HEAD_BYTES and has_line_end):
            break
    else:
        head = b"".join(taken)
        return head, True, iter(taken)
    head = b"".join(taken)
    return head, False, itertools.chain([head], source)


def detect_dialect(head: bytes, complete: bool) -> CsvDialect:
    """Finds encoding, separator, decimal mark, header and timestamp column.

    Raises CsvProblem when the head is empty, binary, has no consistent separator,
    no timestamp column or no data rows.
    """
    sample = _sample(head, complete)
    separator, rows = _split_rows(sample)
    found = _find_timestamp_column(rows)
    if found is None:
        if len(rows) == 1:
            raise CsvProblem("the file has only a header line and no data rows")
        raise CsvProblem("no timestamp column: no column holds dates such as 2000-06-05 00:30:00 or 05.06.2000 00:30")
    index, timestamp_format, has_header = found
    data_rows = rows[1:] if has_header else rows
    if not data_rows:
        raise CsvProblem("the file has only a header line and no data rows")
    return CsvDialect(
        encoding=sample.encoding,
        separator=separator,
        decimal_mark=_decimal_mark(separator, data_rows, index),
        has_header=has_header,
        leading_blank_lines=sample.leading_blank_lines,
        column_names=_column_names(rows[0], len(rows[0]), has_header),
        timestamp_index=index,
        timestamp_format=timestamp_format,
        timestamps_have_zone=timestamp_format == ISO8601
        and any(_ZONE_SUFFIX.search(row[index].strip()) for row in data_rows if index < len(row)),
    )


def dialect_as_described(
    head: bytes,
    complete: bool,
    *,
    encoding: str,
    separator: str,
    decimal_mark: str,
    has_header: bool,
    timestamp_column: str,
    timestamp_format: str,
    timestamps_have_zone: bool,
) -> CsvDialect:
    """The dialect of a file already profiled: reads only the column layout from its head.

    Raises CsvProblem when the file is empty or lacks the timestamp column.
    """
    sample = _sample(head, complete, encoding)
    if not sample.lines:
        raise CsvProblem("the file is empty")
    first = next(csv.reader([sample.lines[0][1]], delimiter=separator))
    names = _column_names(first, len(first), has_header)
    if timestamp_column not in names:
        raise CsvProblem(f"the file has no column {timestamp_column!r}")
    return CsvDialect(
        encoding=encoding,
        separator=separator,
        decimal_mark=decimal_mark,
        has_header=has_header,
        leading_blank_lines=sample.leading_blank_lines,
        column_names=names,
        timestamp_index=names.index(timestamp_column),
        timestamp_format=timestamp_format,
        timestamps_have_zone=timestamps_have_zone,
    )


def timestamp_example(timestamp_format: str) -> str:
    """A timestamp written in the given format, to show users what was expected."""
    if timestamp_format == ISO8601:
        return "2000-06-05T00:30:00+01:00"
    return datetime(2000, 6, 5, 0, 30).strftime(timestamp_format)


def parse_timestamps(cells: pd.Series, timestamp_format: str) -> pd.Series:
    """Cells parsed with one explicit format, as UTC (naive cells are read as UTC); NaT where they do not parse."""
    return pd.to_datetime(cells, format=timestamp_format, errors="coerce", utc=True)


def _sample(head: bytes, complete: bool, encoding: str | None = None) -> _Sample:
    if not head.strip():
        raise CsvProblem("the file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvProblem("the file is UTF-16 text; save it as UTF-8 CSV")
    if b"\x00" in head:
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise CsvProblem(f"line {line} contains NUL bytes: this is a binary file, not CSV", line)
    if b"\n" not in head and b"\r" in head.rstrip(b"\r"):
        raise CsvProblem("lines end in a bare carriage return; save the file with Windows or Unix line ends")
    if len(head) > HEAD_BYTES and b"\n" in head[:HEAD_BYTES]:
        head, complete = head[:HEAD_BYTES], False
    whole = head if complete else head[: head.rfind(b"\n") + 1]
    if not whole:
        raise CsvProblem("line 1 is longer than 1 MiB: this is not a CSV file of time series", 1)
    if encoding is None:
        encoding = _encoding(whole)
    controls = len(whole) - len(whole.translate(None, _CONTROL_BYTES))
    if controls > len(whole) // 100:
        raise CsvProblem("the file holds control characters: this is a binary file, not CSV")
    text = whole.decode(encoding, errors="replace").removeprefix("\ufeff")
    lines: list[tuple[int, str]] = []
    leading_blank_lines = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if len(lines) >= MAX_SAMPLE_LINES:
            break
        if line.strip():
            lines.append((number, line.rstrip("\r")))
        elif not lines and number <= text.count("\n"):
            leading_blank_lines += 1
    if not lines:
        raise CsvProblem("the file is empty")
    return _Sample(encoding, lines, leading_blank_lines)


def _encoding(head: bytes) -> str:
    if head.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _split_rows(sample: _Sample) -> tuple[str, list[list[str]]]:
    """Picks the separator that splits most lines into the same number (>= 2) of fields."""
    texts = [text for _, text in sample.lines]
    for separator in SEPARATORS:
        rows = list(csv.reader(texts, delimiter=separator))
        counts = Counter(len(row) for row in rows)
        fields, lines = counts.most_common(1)[0]
        if fields >= 2 and lines * 2 > len(rows):
            return separator, rows
    if all(separator not in text for text in texts for separator in SEPARATORS):
        single = [[text] for text in texts]
        if _find_timestamp_column(single) is not None:
            raise CsvProblem("no numeric column: the file has only a timestamp column")
        raise CsvProblem("no field separator: lines hold no ';', ',' or tab between a timestamp and values")
    raise CsvProblem(
        "no consistent field separator: lines do not split into the same number of fields by ';', ',' or tab"
    )


def _find_timestamp_column(rows: list[list[str]]) -> tuple[int, str, bool] | None:
    """(index, format, has_header) of the first column whose cells parse as timestamps."""
    for index in range(len(rows[0])):
        cells = [row[index].strip() for row in rows if index < len(row)]
        first, body = cells[0], [cell for cell in cells[1:] if cell]
        best: tuple[int, str, bool] | None = None
        for timestamp_format in TIMESTAMP_FORMATS:
            parsed = _parses([*body, first], timestamp_format)
            body_parsed, first_parsed = int(parsed[:-1].sum()), bool(parsed[-1])
            # A majority, not all: a bad cell in the head is then reported with its line.
            if body and body_parsed * 2 <= len(body) or not body and not first_parsed:
                continue
            score = body_parsed + first_parsed
            if best is None or score > best[0]:
                best = (score, timestamp_format, not first_parsed)
        if best is not None:
            return index, best[1], best[2]
    return None


def _parses(cells: list[str], timestamp_format: str) -> np.ndarray:
    parsed = parse_timestamps(pd.Series(cells, dtype=object), timestamp_format).notna().to_numpy().copy()
    if timestamp_format == ISO8601:
        # pandas reads "2000" or "12" as ISO dates; a timestamp column starts with a full date.
        parsed &= np.array([bool(_ISO_START.match(cell)) for cell in cells], dtype=bool)
    return parsed


def _decimal_mark(separator: str, rows: list[list[str]], timestamp_index: int) -> str:
    if separator == ",":
        return "."
    commas = points = 0
    for row in rows:
        for index, cell in enumerate(row):
            if index != timestamp_index:
                cell = cell.strip()
                commas += bool(_DECIMAL_COMMA_NUMBER.fullmatch(cell))
                points += bool(_DECIMAL_POINT_NUMBER.fullmatch(cell))
    return "," if commas > points else "."


def _column_names(first_row: list[str], count: int, has_header: bool) -> tuple[str, ...]:
    if not has_header:
        return tuple(f"column_{i + 1}" for i in range(count))
    return tuple(name.strip() or f"column_{i + 1}" for i, name in enumerate(first_row))
