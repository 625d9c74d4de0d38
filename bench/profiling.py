"""Throughput of the CSV profiler on a 1,000,000-row, 4-column `;`-separated file."""

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tsforge.tabular.profiling import profile_csv

BLOCK_BYTES = 1024 * 1024


def run(rows: int = 1_000_000) -> dict:
    """Writes the file to a temp dir, profiles it from 1 MiB blocks, returns the timing."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "load.csv"
        _write_csv(path, rows)
        size_mb = os.path.getsize(path) / 1e6
        started = time.perf_counter()
        profile = profile_csv(_blocks(path))
        seconds = time.perf_counter() - started
    assert profile.row_count == rows
    return {
        "name": "profile 1M-row CSV",
        "mb": round(size_mb, 1),
        "seconds": round(seconds, 3),
        "mb_per_s": round(size_mb / seconds, 1),
    }


def _write_csv(path: Path, rows: int) -> None:
    generator = np.random.default_rng(7)
    times = np.datetime64("2000-06-05T00:30:00") + np.arange(rows) * np.timedelta64(15, "m")
    frame = pd.DataFrame(
        {
            "time": pd.Series(times).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "load_mw": generator.normal(500, 80, rows).round(3),
            "temperature_c": generator.normal(12, 8, rows).round(2),
            "price_eur": generator.normal(60, 25, rows).round(4),
        }
    )
    frame.to_csv(path, sep=";", index=False)


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while block := file.read(BLOCK_BYTES):
            yield block


if __name__ == "__main__":
    print(run())
