"""Starting a moto S3 server process on loopback, and stopping server processes, for the
tests and the benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

_S3_START_TIMEOUT_S = 30.0
_S3_START_ATTEMPTS = 3


def start_moto(log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start `python -m moto.server` on a free port; return the process and the port.

    Retries with a new port when another process grabs the port between choosing it
    and moto binding it. Raises RuntimeError with moto's log when it never answers.
    """
    failures = []
    for _ in range(_S3_START_ATTEMPTS):
        port = _free_port()
        # A file, not a pipe: moto logs every request, and a full pipe would stall it.
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_answering(process, port):
            return process, port
        process.kill()
        process.wait()
        failures.append(f"port {port}: exit code {process.returncode}")
    raise RuntimeError(
        f"moto S3 server did not start ({'; '.join(failures)}); log:\n" + log_path.read_text(errors="replace")[-4000:]
    )


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, up to 15 s to exit, then SIGKILL; closes its stdout pipe if it has one."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _wait_until_answering(process: subprocess.Popen[bytes], port: int) -> bool:
    # No proxies: an HTTP_PROXY in the environment must not intercept loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + _S3_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with opener.open(f"http://127.0.0.1:{port}/moto-api/", timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
