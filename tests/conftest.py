"""Fixtures for real components the tests run against."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.platform_fixtures import *  # noqa: F403 (the platform's fixtures: database, tenants, services)
from tsforge.core.storage import LocalObjectStore, S3ObjectStore
from tsforge.core.storage.s3 import S3_MIN_PART_SIZE

_S3_START_TIMEOUT_S = 30.0
_S3_START_ATTEMPTS = 3


@dataclass(frozen=True)
class S3Server:
    """Where a running S3 server listens and the credentials it accepts."""

    endpoint: str  # "127.0.0.1:PORT", as minio.Minio expects it
    access_key: str
    secret_key: str
    secure: bool = False


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto S3 server process on loopback for the whole session.

    Fails (never skips) when the server cannot be started: the S3 store must not go
    untested silently.
    """
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    process, port = _start_moto(log_path)
    try:
        yield S3Server(endpoint=f"127.0.0.1:{port}", access_key="testing", secret_key="testing")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_store(s3_server: S3Server) -> S3ObjectStore:
    """An S3ObjectStore on a fresh, uniquely named bucket of the session's moto server.

    put() uses the smallest legal part size, so a few MiB already exercise its
    multipart path.
    """
    return S3ObjectStore.from_settings(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        bucket=f"test-{uuid.uuid4().hex[:20]}",
        secure=s3_server.secure,
        region="us-east-1",
        put_part_size=S3_MIN_PART_SIZE,
    )


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    """A LocalObjectStore rooted in the test's temporary directory."""
    return LocalObjectStore(tmp_path / "objects")


def _start_moto(log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
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
        f"moto S3 server did not start ({'; '.join(failures)}); log:\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


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
