"""Realistic `;`-separated time-series CSV, generated fast enough to stream 1 GiB.

Rows look like `2000-06-05 00:01:00;512.345;12.34;60.1234`: a timestamp every minute
and three float columns. Every field has a fixed width (values are clipped into a
range that keeps their digit count), so a block of rows is built as one numpy byte
array instead of being formatted row by row in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

HEADER = b"time;load_mw;temperature_c;price_eur\n"
CHUNK_BYTES = 1 << 20
_FIRST_DAY = np.datetime64("2000-06-05", "D")
_ROWS_PER_DAY = 24 * 60
_DAYS_PER_BLOCK = 64
_ROWS_PER_BLOCK = _DAYS_PER_BLOCK * _ROWS_PER_DAY
# (mean, spread, low, high, decimals); low..high keeps the integer digits fixed.
_COLUMNS = ((500.0, 80.0, 100.0, 999.999, 3), (22.0, 6.0, 10.0, 99.99, 2), (60.0, 15.0, 10.0, 99.9999, 4))
_VALUES_WIDTH = sum(len(f"{high:.{decimals}f}") + 1 for _, _, _, high, decimals in _COLUMNS)
ROW_BYTES = 19 + _VALUES_WIDTH + 1  # timestamp, ";value" per column, newline


def row_count(size_bytes: int) -> int:
    """How many rows a file of at most `size_bytes` (header included) holds."""
    return max(1, (size_bytes - len(HEADER)) // ROW_BYTES)


def csv_chunks(size_bytes: int, chunk_bytes: int = CHUNK_BYTES, seed: int = 7) -> Iterator[bytes]:
    """Yield a CSV of `row_count(size_bytes)` rows in chunks of exactly `chunk_bytes` (the last shorter)."""
    pending = bytearray(HEADER)
    for block in _row_blocks(row_count(size_bytes), seed):
        pending += block
        whole = len(pending) - len(pending) % chunk_bytes
        for start in range(0, whole, chunk_bytes):
            yield bytes(pending[start : start + chunk_bytes])
        del pending[:whole]
    if pending:
        yield bytes(pending)


def write_csv(path: Path, size_bytes: int) -> int:
    """Write the CSV of `csv_chunks(size_bytes)` to `path`; return its size in bytes."""
    with path.open("wb") as out:
        return sum(out.write(chunk) for chunk in csv_chunks(size_bytes))


def csv_size(size_bytes: int) -> int:
    """The exact size of the CSV `csv_chunks(size_bytes)` yields."""
    return len(HEADER) + row_count(size_bytes) * ROW_BYTES


def _row_blocks(rows: int, seed: int) -> Iterator[bytes]:
    generator = np.random.default_rng(seed)
    # The values repeat from one pool, the times of day from one table; per block only
    # the dates are formatted.
    values = _values_pool(generator, _ROWS_PER_BLOCK)
    times_of_day = (
        np.array([f" {minute // 60:02d}:{minute % 60:02d}:00".encode() for minute in range(_ROWS_PER_DAY)], dtype="S9")
        .view(np.uint8)
        .reshape(_ROWS_PER_DAY, 9)
    )
    for first in range(0, rows, _ROWS_PER_BLOCK):
        count = min(_ROWS_PER_BLOCK, rows - first)
        days = _FIRST_DAY + first // _ROWS_PER_DAY + np.arange(_DAYS_PER_BLOCK)
        dates = np.datetime_as_string(days, unit="D").astype("S10").view(np.uint8).reshape(-1, 10)
        days_block = np.empty((_DAYS_PER_BLOCK, _ROWS_PER_DAY, ROW_BYTES), dtype=np.uint8)
        days_block[:, :, :10] = dates[:, None, :]
        days_block[:, :, 10:19] = times_of_day[None, :, :]
        block = days_block.reshape(_ROWS_PER_BLOCK, ROW_BYTES)
        block[:, 19:-1] = values
        block[:, -1] = ord("\n")
        yield block[:count].tobytes()


def _values_pool(generator: np.random.Generator, rows: int) -> np.ndarray:
    columns = []
    for mean, spread, low, high, decimals in _COLUMNS:
        width = len(f"{high:.{decimals}f}")
        numbers = np.clip(generator.normal(mean, spread, rows), low, high)
        text = np.char.mod(f";%{width}.{decimals}f", numbers).astype(f"S{width + 1}")
        columns.append(text.view(np.uint8).reshape(rows, width + 1))
    return np.concatenate(columns, axis=1)
