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
# Columns of a file: its profile and every block's statistics grow with them.
MAX_COLUMNS = 1000

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
# A cheap first look before the formats are tried: every format writes a date this way.
_DATE_LIKE = re.compile(r"\d{1,4}[-.]\d{1,2}[-.]\d{1,4}")
# Columns an explanation of a missing timestamp column looks at.
MAX_CANDIDATE_COLUMNS = 64
_ZONE_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
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
    """Reads the first ~64 KiB (whole lines, two at least, at most 1 MiB) of a chunk stream.

    Returns the head, whether it is the whole file, and an iterator over all the
    file's chunks, the head's included.
    """
    source = iter(chunks)
    taken: list[bytes] = []
    size = 0
    line_ends = 0
    for chunk in source:
        taken.append(chunk)
        size += len(chunk)
        line_ends += chunk.count(b"\n")
        # Two whole lines at least, so that a wide header comes with a data line.
        if size >= MAX_HEAD_BYTES or (size >= HEAD_BYTES and line_ends >= 2):
            break
    else:
        head = b"".join(taken)
        return head, True, iter(taken)
    head = b"".join(taken)
    return head, False, itertools.chain([head], source)


def detect_dialect(head: bytes, complete: bool) -> CsvDialect:
    """Finds encoding, separator, decimal mark, header and timestamp column.

    Raises CsvProblem when the head is empty, binary, has no consistent separator
    (saying which line uses another one), a quoted field left open, no timestamp
    column (saying what the best candidate holds: mixed formats, which cells are not
    timestamps), timestamps with and without a UTC offset mixed, or no data rows.
    """
    sample = _sample(head, complete)
    separator, rows = _split_rows(sample)
    numbers = [number for number, _ in sample.lines]
    _check_quotes(sample, separator)
    width = Counter(len(row) for row in rows).most_common(1)[0][0]
    if width > MAX_COLUMNS:
        raise CsvProblem(
            f"lines have {width} fields; at most {MAX_COLUMNS} columns (a timestamp and values) are read", numbers[0]
        )
    _check_shapes(sample, separator, rows, width)
    found = _find_timestamp_column(rows)
    if found is None:
        if len(rows) == 1:
            raise CsvProblem("the file has only a header line and no data rows")
        raise CsvProblem(_no_timestamp_column(rows, numbers))
    index, timestamp_format, has_header = found
    data_rows = rows[1:] if has_header else rows
    if not data_rows:
        raise CsvProblem("the file has only a header line and no data rows")
    data_numbers = numbers[1:] if has_header else numbers
    zoned = timestamp_format == ISO8601 and _zones_agree(data_rows, data_numbers, index)
    return CsvDialect(
        encoding=sample.encoding,
        separator=separator,
        decimal_mark=_decimal_mark(separator, data_rows, index),
        has_header=has_header,
        leading_blank_lines=sample.leading_blank_lines,
        column_names=_column_names(rows[0], len(rows[0]), has_header),
        timestamp_index=index,
        timestamp_format=timestamp_format,
        timestamps_have_zone=zoned,
    )


def zone_mismatch(cells: pd.Series, have_zone: bool) -> int | None:
    """The position of the first non-blank cell whose UTC offset (present or not)
    differs from `have_zone`, or None."""
    zoned = cells.astype(str).str.strip().str.contains(_ZONE_SUFFIX.pattern, regex=True).to_numpy(dtype=bool)
    blank = cells.isna().to_numpy() | cells.astype(str).str.strip().eq("").to_numpy(dtype=bool)
    differs = np.flatnonzero((zoned != have_zone) & ~blank)
    return int(differs[0]) if differs.size else None


def mixed_zone_message(line: int, cell: str, have_zone: bool) -> str:
    """What to say about a timestamp whose offset is unlike the file's others."""
    if have_zone:
        return (
            f"line {line}: {_short(cell)} has no UTC offset but the timestamps before it have one; "
            "give every timestamp an offset (Z, +01:00) or none"
        )
    return (
        f"line {line}: {_short(cell)} has a UTC offset but the timestamps before it have none; "
        "give every timestamp an offset (Z, +01:00) or none"
    )


def _zones_agree(rows: list[list[str]], numbers: list[int], index: int) -> bool:
    """Whether the ISO timestamps carry a UTC offset; raises CsvProblem when some do and some do not."""
    cells = [(number, row[index].strip()) for number, row in zip(numbers, rows) if row[index].strip()]
    if not cells:
        return False
    first = bool(_ZONE_SUFFIX.search(cells[0][1]))
    for number, cell in cells[1:]:
        if bool(_ZONE_SUFFIX.search(cell)) != first:
            raise CsvProblem(mixed_zone_message(number, cell, first), number)
    return first


def _check_quotes(sample: _Sample, separator: str) -> None:
    """A quoted field must close on its line: line breaks inside quotes are not read."""
    for number, text in sample.lines:
        if '"' not in text:
            continue
        try:
            next(csv.reader([text], delimiter=separator, strict=True))
        except csv.Error as error:  # _split_rows read it without strict: no other error is left
            if "unexpected end of data" in str(error):
                raise CsvProblem(
                    f"line {number} opens a quoted field that does not close on the line "
                    f"({_short(text)}); a field may not span lines",
                    number,
                ) from None


def _check_shapes(sample: _Sample, separator: str, rows: list[list[str]], width: int) -> None:
    """A line that another separator splits into the common field count: mixed separators."""
    for (number, text), row in zip(sample.lines, rows):
        if len(row) == width:
            continue
        for other in SEPARATORS:
            if other != separator and other in text and len(_fields(text, other, number)) == width:
                raise CsvProblem(
                    f"line {number} is separated by {other!r} but most lines by {separator!r} "
                    f"({_short(text)}); use one separator throughout",
                    number,
                )


def _no_timestamp_column(rows: list[list[str]], numbers: list[int]) -> str:
    """Why no column is a timestamp column, from the column that comes closest."""
    generic = "no timestamp column: no column holds dates such as 2000-06-05 00:30:00 or 05.06.2000 00:30"
    body = list(zip(numbers[1:], rows[1:]))
    best = None  # (covered, index, {format: [lines]}, first line not covered)
    for index in range(min(len(rows[0]), MAX_CANDIDATE_COLUMNS)):
        cells = [(number, row[index].strip()) for number, row in body if index < len(row) and row[index].strip()]
        if not cells or not any(_DATE_LIKE.search(cell) for _, cell in cells):
            continue
        unclaimed = np.ones(len(cells), dtype=bool)
        by_format: dict[str, list[tuple[int, str]]] = {}
        for timestamp_format in TIMESTAMP_FORMATS:
            parsed = _parses([cell for _, cell in cells], timestamp_format) & unclaimed
            if parsed.any():
                by_format[timestamp_format] = [cells[i] for i in np.flatnonzero(parsed)]
                unclaimed &= ~parsed
        covered = len(cells) - int(unclaimed.sum())
        if covered and (best is None or covered > best[0]):
            missing = cells[int(np.argmax(unclaimed))] if unclaimed.any() else None
            best = (covered, index, by_format, missing, len(cells))
    if best is None:
        return generic
    covered, index, by_format, missing, total = best
    name = f"column {index + 1} ({_short(rows[0][index])})"
    if len(by_format) > 1 and covered * 2 > total:
        kinds = " and ".join(
            f"{len(found)} like {timestamp_example(fmt)!r} (line {found[0][0]})" for fmt, found in by_format.items()
        )
        return f"no timestamp column: {name} mixes timestamp formats, {kinds}; write every timestamp in one format"
    fmt = max(by_format, key=lambda f: len(by_format[f]))
    text = f"no timestamp column: {name} holds timestamps like {timestamp_example(fmt)!r} in only {covered} of {total}"
    text += " sampled rows"
    if missing is not None:
        text += f" (line {missing[0]}: {_short(missing[1])} is not one)"
    return text


def _fields(text: str, separator: str, number: int) -> list[str]:
    """The fields of one line. Raises CsvProblem naming the line when it cannot be split."""
    try:
        return next(csv.reader([text], delimiter=separator))
    except csv.Error as error:
        if "\r" in text:
            raise CsvProblem(
                f"line {number} holds a carriage return inside it; save the file with Windows or Unix line ends",
                number,
            ) from None
        raise CsvProblem(f"line {number} cannot be split into fields: {error}", number) from None


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else f"{text[:60]!r}…"


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
    first = _fields(sample.lines[0][1], separator, sample.lines[0][0])
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
    if len(head) > HEAD_BYTES and head.count(b"\n", 0, HEAD_BYTES) >= 2:
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
    for number, text_line in enumerate(text.split("\n"), start=1):
        if len(lines) >= MAX_SAMPLE_LINES:
            break
        if text_line.strip():
            lines.append((number, text_line.rstrip("\r")))
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
    """Picks the separator that splits most lines into the same number (>= 2) of fields.

    Each line is one row (a quote left open does not swallow the lines after it).
    """
    texts = [text for _, text in sample.lines]
    for separator in SEPARATORS:
        rows = [_fields(text, separator, number) for number, text in sample.lines]
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
        # Every format writes a date as digits and two '-' or '.' (most columns are numbers).
        if (
            sum(bool(_DATE_LIKE.search(cell)) for cell in body) * 2 <= len(body)
            if body
            else not _DATE_LIKE.search(first)
        ):
            continue
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
