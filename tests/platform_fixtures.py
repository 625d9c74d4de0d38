"""Fixtures for the platform's real parts: a PostgreSQL database, and running services.

The database is the machine's PostgreSQL (TSFORGE_TEST_DATABASE_URL, by default
postgres@127.0.0.1:5432): a fresh database per test session, dropped afterwards. A
missing server fails the tests; it never skips them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tsforge.core.auth import issue_token
from tsforge.core.config import Config, load_config
from tsforge.core.db import Database
from tsforge.core.server import client_channel

ADMIN_URL = os.environ.get("TSFORGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A fresh secret per test session: a fixed one written here would be a published secret.
JWT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a fresh, empty database on the test PostgreSQL server."""
    name = f"tsforge_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is required for the tests and is not reachable at {ADMIN_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = ADMIN_URL.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def make_config(**settings: str) -> Config:
    """A config as the services read it, from TSFORGE_* settings given as keyword arguments."""
    env = {"TSFORGE_JWT_SECRET": JWT_SECRET, "TSFORGE_SERVER_THREADS": "16"}
    env.update({f"TSFORGE_{key.upper()}": value for key, value in settings.items()})
    return load_config(env)


@dataclass(frozen=True)
class Tenant:
    name: str
    token: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)


def new_tenant() -> Tenant:
    name = f"t-{uuid.uuid4().hex[:12]}"
    return Tenant(name, issue_token(JWT_SECRET, name))


@pytest.fixture
def tenant() -> Tenant:
    """A tenant of its own for each test, so tests never see each other's data."""
    return new_tenant()


@pytest.fixture
def other_tenant() -> Tenant:
    return new_tenant()


@pytest.fixture(params=["local", "s3"])
def store(request):
    """Each object store implementation in turn."""
    return request.getfixturevalue(f"{request.param}_store")


@dataclass
class RunningUploadService:
    server: object  # services.upload.server.UploadServer
    stub: object  # UploadServiceStub over a real channel
    store: object  # the ObjectStore it writes to
    address: str


@contextlib.contextmanager
def running_upload_service(db: Database, store, **settings: str) -> Iterator[RunningUploadService]:
    """An upload service on a free port of 127.0.0.1, stopped when the block ends."""
    from services.upload.server import UploadServer
    from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

    server = UploadServer(make_config(**settings), db, store, "127.0.0.1:0")
    address = f"127.0.0.1:{server.port}"
    channel = client_channel(address)
    try:
        yield RunningUploadService(server, pb_grpc.UploadServiceStub(channel), store, address)
    finally:
        channel.close()
        server.stop(grace=0)


@pytest.fixture
def upload_service(db, store) -> Iterator[RunningUploadService]:
    """A running upload service over each object store in turn."""
    with running_upload_service(db, store) as service:
        yield service
