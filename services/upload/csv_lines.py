"""The file's bytes as blocks of whole lines, each line checked on the way to the parser.

Parsers fill missing trailing fields with NaN without a word and word the error for
extra fields their own way, so field counts are checked here, vectorized over each
block of whole lines. The blocks are UTF-8 whatever the file's encoding, so the
parser never decodes.

At the first bad line the stream records a CsvProblem and ends just before that
line: the parser reads every good line before it, so a problem earlier in the file
(an unparseable timestamp) is still reported first.

Lines holding a double quote are left to the parser, since a quoted field may hold
the separator: there a missing field goes unnoticed and an extra field may surface as
a misplaced value (a bad timestamp) rather than as a field count. A line break inside
quotes is not supported (the file is refused as not readable). Quotes are rare in
these files; a fully quoted file with consistent rows reads correctly.
"""

from collections.abc import Iterator

import numpy as np

from services.upload.csv_problem import CsvProblem

MAX_LINE_BYTES = 16 * 1024 * 1024
_NEWLINE, _CARRIAGE_RETURN, _QUOTE, _NUL = 10, 13, ord('"'), 0


class CheckedLineStream:
    """UTF-8 blocks of the file's whole, checked lines; ``problem`` is set if it stopped early."""

    def __init__(self, chunks: Iterator[bytes], encoding: str, separator: str, field_count: int, header_named: bool):
        self.problem: CsvProblem | None = None
        self._chunks = chunks
        self._encoding = encoding
        self._separator = ord(separator)
        self._field_count = field_count
        self._reference = "the header" if header_named else "line 1"
        self._pending = b""
        self._lines_done = 0
        self._at_start = True
        self._finished = False

    def blocks(self) -> Iterator[bytes]:
        """The checked blocks, in order; each ends with a line end except perhaps the last."""
        while not self._finished:
            if block := self._next_block():
                yield block

    def _next_block(self) -> bytes:
        for chunk in self._chunks:
            if self._at_start:
                self._at_start = False
                if self._encoding == "utf-8-sig" and chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
            data = self._pending + chunk if self._pending else chunk
            end = data.rfind(b"\n") + 1
            if end == 0:
                self._pending = data
                if len(data) > MAX_LINE_BYTES:
                    self._stop(CsvProblem(f"line {self._lines_done + 1} is longer than 16 MiB", self._lines_done + 1))
                    return b""
                continue
            self._pending = data[end:]
            return self._checked(data[:end])
        self._finished = True
        last, self._pending = self._pending, b""
        return self._checked(last) if last else b""

    def _stop(self, problem: CsvProblem) -> None:
        self.problem = problem
        self._finished = True

    def _checked(self, block: bytes) -> bytes:
        """The block (whole lines) as UTF-8, cut before its first bad line."""
        cells = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(cells == _NEWLINE)
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))
        starts = np.concatenate(([0], ends[:-1] + 1))
        separators = _per_line(cells, self._separator, ends)
        bad = separators != self._field_count - 1
        if b'"' in block:
            bad &= _per_line(cells, _QUOTE, ends) == 0
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
        if self._encoding != "latin-1":
            problem_at = self._check_utf8(block, starts, problem_at)
        if problem_at is not None:
            number = self._lines_done + problem_at + 1
            if nul_lines is not None and nul_lines[problem_at]:
                message = f"line {number} contains NUL bytes: this is a binary file, not CSV"
            elif separators[problem_at] != self._field_count - 1:
                message = (
                    f"line {number} has {separators[problem_at] + 1} fields "
                    f"but {self._reference} has {self._field_count}"
                )
            else:
                message = f"line {number} is not valid UTF-8 although the lines before it are; save the file as UTF-8"
            self._stop(CsvProblem(message, number))
            block = block[: starts[problem_at]]
        self._lines_done += len(ends)
        if self._encoding == "latin-1":
            return block.decode("latin-1").encode("utf-8")
        return block

    def _check_utf8(self, block: bytes, starts: np.ndarray, problem_at: int | None) -> int | None:
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
