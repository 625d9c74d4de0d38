"""The file's bytes as UTF-8 blocks of whole lines, and the checks of a block's lines.

Blocks are UTF-8 whatever the file's encoding, so the parser never decodes. Arrow's
reader refuses a block with a line of the wrong field count, a NUL byte or invalid
UTF-8 in it; only a block it refuses is checked line by line here, so pandas reads
the good lines before the first bad one (a problem earlier in the file, such as an
unparseable timestamp, is still reported first) and the bad line is named.

pandas fills missing trailing fields with NaN without a word and words the error for
extra fields its own way, hence the field counts, vectorized over the block. Lines
holding a double quote are left to pandas, since a quoted field may hold the
separator: there a missing field goes unnoticed and an extra field may surface as a
misplaced value (a bad timestamp) rather than as a field count. A line break inside
quotes is not supported (the file is refused as not readable). Quotes are rare in
these files; a fully quoted file with consistent rows reads correctly.
"""

import csv
from collections.abc import Iterator

import numpy as np

from tsforge.tabular.problem import CsvProblem

MAX_LINE_BYTES = 16 * 1024 * 1024
_NEWLINE, _CARRIAGE_RETURN, _QUOTE, _NUL = 10, 13, ord('"'), 0


def line_blocks(chunks: Iterator[bytes], encoding: str, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, block) for blocks of whole lines of at most about
    `block_bytes` (longer where one line is), as UTF-8; the last may lack a line end.

    Raises CsvProblem for a line longer than MAX_LINE_BYTES.
    """
    pending = b""
    line = 1
    at_start = True
    for chunk in chunks:
        if at_start:
            at_start = False
            if encoding == "utf-8-sig" and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        pending = pending + chunk if pending else chunk
        while len(pending) >= block_bytes:
            end = pending.rfind(b"\n", 0, block_bytes) + 1 or pending.find(b"\n", block_bytes) + 1
            if end == 0:
                if len(pending) > MAX_LINE_BYTES:
                    raise CsvProblem(f"line {line} is longer than 16 MiB", line)
                break
            yield line, _utf8(pending[:end], encoding)
            line += pending.count(b"\n", 0, end)
            pending = pending[end:]
    if pending:
        yield line, _utf8(pending, encoding)


def _utf8(block: bytes, encoding: str) -> bytes:
    return block.decode("latin-1").encode("utf-8") if encoding == "latin-1" else block


class LineChecker:
    """Finds a block's first bad line: a wrong field count, a NUL byte, invalid UTF-8."""

    def __init__(self, separator: str, field_count: int, header_named: bool, check_utf8: bool):
        self._separator = ord(separator)
        self._field_count = field_count
        self._reference = "the header" if header_named else "line 1"
        self._check_utf8_lines = check_utf8

    def check(self, block: bytes, first_line: int) -> tuple[bytes, CsvProblem | None]:
        """The block up to its first bad line, and that line's problem (None when all are good)."""
        cells = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(cells == _NEWLINE)
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))
        starts = np.concatenate(([0], ends[:-1] + 1))
        separators = _per_line(cells, self._separator, ends)
        bad = separators != self._field_count - 1
        open_quotes = None
        if b'"' in block:
            quotes = _per_line(cells, _QUOTE, ends)
            bad &= quotes == 0
            open_quotes = np.zeros(len(ends), dtype=bool)
            for index in np.flatnonzero(quotes % 2):
                open_quotes[index] = self._opens_quote(block[starts[index] : ends[index]])
            bad |= open_quotes
        nul_lines = _per_line(cells, _NUL, ends) > 0 if b"\x00" in block else None
        if nul_lines is not None:
            bad |= nul_lines
        lengths = ends - starts
        line_ends_in_cr = cells[np.maximum(ends - 1, 0)] == _CARRIAGE_RETURN
        bad &= ~((lengths == 0) | ((lengths == 1) & line_ends_in_cr))
        problem_at = None
        for index in np.flatnonzero(bad):
            line = block[starts[index] : ends[index]]
            if nul_lines is None or not nul_lines[index]:
                if separators[index] == 0 and not line.strip():
                    continue  # a blank line of spaces
            problem_at = int(index)
            break
        if self._check_utf8_lines:
            problem_at = _check_utf8(block, starts, problem_at)
        if problem_at is None:
            return block, None
        number = first_line + problem_at
        line = block[starts[problem_at] : ends[problem_at]]
        if nul_lines is not None and nul_lines[problem_at]:
            message = f"line {number} contains NUL bytes: this is a binary file, not CSV"
        elif open_quotes is not None and open_quotes[problem_at]:
            message = f"line {number} opens a quoted field that does not close on the line; a field may not span lines"
        elif separators[problem_at] != self._field_count - 1:
            message = (
                f"line {number} has {separators[problem_at] + 1} fields but {self._reference} has {self._field_count}"
                + self._separator_hint(line)
            )
        else:
            message = f"line {number} is not valid UTF-8 although the lines before it are; save the file as UTF-8"
        return block[: starts[problem_at]], CsvProblem(message, number)

    def _opens_quote(self, line: bytes) -> bool:
        """Whether a line (with an odd number of quotes) leaves a quoted field open."""
        try:
            next(csv.reader([line.decode("utf-8", errors="replace")], delimiter=chr(self._separator), strict=True))
        except csv.Error as error:
            return "unexpected end of data" in str(error)
        return False

    def _separator_hint(self, line: bytes) -> str:
        """Says so when another separator splits the line into the expected fields."""
        for other in (b";", b"\t", b","):
            if ord(other) != self._separator and line.count(other) == self._field_count - 1:
                return f" (it is separated by {other.decode()!r}, the file by {chr(self._separator)!r})"
        return ""


def _check_utf8(block: bytes, starts: np.ndarray, problem_at: int | None) -> int | None:
    """The earlier of problem_at and the first line that is not UTF-8."""
    checked = block if problem_at is None else block[: starts[problem_at]]
    try:
        checked.decode("utf-8")
    except UnicodeDecodeError as error:
        return int(np.searchsorted(starts, error.start, side="right") - 1)
    return problem_at


def _per_line(cells: np.ndarray, byte: int, ends: np.ndarray) -> np.ndarray:
    """How often `byte` occurs in each line; lines end at `ends` (exclusive)."""
    positions = np.flatnonzero(cells == byte)
    return np.diff(np.searchsorted(positions, ends), prepend=0)
