"""Browser upload throughput against `tsforge upload` of the same file in the same run,
and the tab's memory during the browser's upload (it must stay flat: the file is read
a chunk at a time, never whole).

    PYTHONPATH=. .venv/bin/python -m tests.web.bench_console [--mib 256] [--rounds 1]

An upload service and the edge (console + grpc-web on one port) on a fresh test
database and a local object store; both clients use the resumable unary flow with
5 MiB chunks. Prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.plugin import new_tenant
from tests.web.helpers import CHROMIUM, WEB, build_console, running_console_platform
from tests.web.serve import fresh_database
from tests.web.test_console import initial_js_gzipped
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]


def write_csv(path: Path, mib: int) -> None:
    """A minute-by-minute CSV of about `mib` MiB ("YYYY-MM-DD HH:MM:SS;value" lines)."""
    rows_per_block = 200_000
    start = np.datetime64("2000-01-01T00:00:00")
    with path.open("w") as out:
        out.write("time;value\n")
        row = 0
        while out.tell() < mib << 20:
            minutes = start + np.arange(row, row + rows_per_block).astype("timedelta64[m]")
            values = 100 + 10 * np.sin(np.arange(row, row + rows_per_block) / 600)
            stamps = np.datetime_as_string(minutes, unit="s")
            out.write("".join(f"{s[:10]} {s[11:]};{v:.4f}\n" for s, v in zip(stamps, values)))
            row += rows_per_block


def cli_upload(path: Path, address: str, token: str) -> float:
    env = {**os.environ, "TSFORGE_UPLOAD_ADDRESS": address, "TSFORGE_TOKEN": token, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tsforge.cli", "upload", str(path), "--role", "input", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return seconds


def browser_upload(path: Path, url: str, token: str) -> dict:
    done = subprocess.run(
        ["node", str(WEB / "e2e" / "bench_upload.mjs")],
        cwd=WEB,
        env={**os.environ, "CHROMIUM": CHROMIUM, "CONSOLE_URL": url, "TSFORGE_TOKEN": token, "FILE": str(path)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=1, help="browser and CLI uploads, alternating")
    args = parser.parse_args()
    build_console()
    with contextlib.ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tsforge-web-bench-")))
        url = stack.enter_context(fresh_database())
        db = Database(url)
        stack.callback(db.dispose)
        # Only the upload service behind the edge: the other services are not needed here.
        platform = stack.enter_context(
            running_console_platform(db, url, LocalObjectStore(data / "objects"), parts=["upload", "edge"])
        )
        edge = platform.url
        big = data / f"bench-{args.mib}mib.csv"
        write_csv(big, args.mib)
        size_mib = big.stat().st_size / 2**20
        tenant = new_tenant()
        browser_rates, cli_rates, runs = [], [], []
        for _ in range(args.rounds):
            result = browser_upload(big, edge, tenant.token)
            runs.append(result)
            browser_rates.append(size_mib / result["upload"]["seconds"])
            cli_rates.append(size_mib / cli_upload(big, platform.upload_address, tenant.token))
    b, c = statistics.median(browser_rates), statistics.median(cli_rates)
    last = runs[-1]
    rows = [
        ("initial JavaScript, gzipped", f"{initial_js_gzipped() / 1024:.1f} KiB", "≤ 300 KiB"),
        (f"browser upload, {size_mib:.0f} MiB, 5 MiB chunks", f"{b:.1f} MiB/s", ""),
        ("`tsforge upload` of the same file", f"{c:.1f} MiB/s", ""),
        ("browser / CLI", f"{b / c:.2f} ×", "≥ 0.7 ×"),
        (
            "tab memory during the upload (renderer RSS)",
            f"{last['before']['rendererRssMiB']:.0f} → peak {last['peakRendererRssMiB']:.0f} MiB",
            "flat",
        ),
        (
            "  its peak in the first / last quarter of the upload",
            f"{last['rssPeakFirstQuarterMiB']:.0f} / {last['rssPeakLastQuarterMiB']:.0f} MiB",
            "no growth",
        ),
        ("JS heap during the upload", f"{last['before']['heapMiB']:.0f} → peak {last['peakHeapMiB']:.0f} MiB", "flat"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\nweb console bench ({args.rounds} round(s); rates are medians)")
    for name, value, goal in rows:
        print(f"  {name:<{width}}  {value:<26} {goal}")


if __name__ == "__main__":
    main()
