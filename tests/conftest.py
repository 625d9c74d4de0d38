"""Fixtures for real components the tests run against."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.moto_server import start_moto, stop_process
from tests.platform_fixtures import *  # noqa: F403 (the platform's fixtures: database, tenants, services)
from tsforge.core.storage import LocalObjectStore, S3ObjectStore
from tsforge.core.storage.s3 import S3_MIN_PART_SIZE


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
    process, port = start_moto(log_path)
    try:
        yield S3Server(endpoint=f"127.0.0.1:{port}", access_key="testing", secret_key="testing")
    finally:
        stop_process(process)


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
