"""The one pytest plugin of the test suite (`-p tests.plugin` in pyproject.toml): the
platform's real parts, started through the composition root (tsforge.platform).

- A PostgreSQL database per test PACKAGE (the machine's server, TSFORGE_TEST_DATABASE_URL,
  by default postgres@127.0.0.1:5432), dropped afterwards: a worker started by one
  package's tests can never claim another package's jobs. A missing server fails the
  tests; it never skips them.
- A moto S3 server process on loopback for the whole session, a fresh bucket per test.
- Running stacks (upload; upload + training + workers; + evaluation; + models), each a
  Platform on free ports of 127.0.0.1, with stubs over real channels.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.moto_server import start_moto, stop_process
from tsforge.core.auth import issue_token
from tsforge.core.channels import client_channel
from tsforge.core.config import Config, load_config
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore, S3ObjectStore
from tsforge.core.storage.s3 import S3_MIN_PART_SIZE
from tsforge.platform import WORKERS, Platform

ADMIN_URL = os.environ.get("TSFORGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A fresh secret per test session: a fixed one written here would be a published secret.
JWT_SECRET = secrets.token_urlsafe(48)


# -- configuration and tenants ------------------------------------------------------


def make_config(**settings: str) -> Config:
    """A config as the services read it, from TSFORGE_* settings given as keyword arguments."""
    env = {"TSFORGE_JWT_SECRET": JWT_SECRET, "TSFORGE_SERVER_THREADS": "16", "TSFORGE_LOG_JSON": "false"}
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


# -- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="package")
def database_url() -> Iterator[str]:
    """URL of a fresh, empty database on the test PostgreSQL server, one per test package."""
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


@pytest.fixture(scope="package")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


# -- object stores ------------------------------------------------------------------


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


@pytest.fixture(params=["local", "s3"])
def store(request):
    """Each object store implementation in turn."""
    return request.getfixturevalue(f"{request.param}_store")


# -- running platforms --------------------------------------------------------------


@contextlib.contextmanager
def running_platform(
    db: Database, database_url: str, store, parts: Sequence[str], workers: int = 1, **settings: str
) -> Iterator[Platform]:
    """The parts on free ports of 127.0.0.1 over `store`, stopped when the block ends.

    Worker processes open the store from the config, so a local store's directory is
    the config's object directory (TSFORGE_DATA_DIR is its parent).
    """
    if isinstance(store, LocalObjectStore):
        settings = {"data_dir": str(store.root.parent), **settings}
    platform = Platform(
        make_config(**settings), parts, database_url=database_url, db=db, store=store, any_port=True, workers=workers
    )
    try:
        yield platform
    finally:
        platform.stop(grace=0)


@dataclass
class RunningUploadService:
    server: Any  # services.upload.server.UploadServer
    stub: Any  # UploadServiceStub over a real channel
    store: Any  # the ObjectStore it writes to
    address: str


@dataclass
class TrainingStack:
    upload: RunningUploadService
    training: Any  # services.training.server.TrainingServer
    stub: Any  # TrainingServiceStub
    address: str
    store: LocalObjectStore
    env: dict  # what a process of the platform (a worker, the CLI) sees


@dataclass
class EvaluationStack:
    training: TrainingStack
    server: Any  # services.evaluation.server.EvaluationServer
    stub: Any  # EvaluationServiceStub
    address: str
    store: LocalObjectStore


@contextlib.contextmanager
def _stubs(platform: Platform, stack_of: dict[str, type]) -> Iterator[dict[str, object]]:
    channels = {name: client_channel(platform.address(name)) for name in stack_of}
    try:
        yield {name: stub_class(channels[name]) for name, stub_class in stack_of.items()}
    finally:
        for channel in channels.values():
            channel.close()


def _upload_of(platform: Platform, stubs: dict, store) -> RunningUploadService:
    return RunningUploadService(platform.server("upload"), stubs["upload"], store, platform.address("upload"))


def _training_of(platform: Platform, stubs: dict, store) -> TrainingStack:
    return TrainingStack(
        _upload_of(platform, stubs, store),
        platform.server("training"),
        stubs["training"],
        platform.address("training"),
        store,
        platform.worker_environment(),
    )


def _stub_classes(*names: str) -> dict[str, type]:
    from tsforge.evaluation.v1 import evaluation_service_pb2_grpc
    from tsforge.models.v1 import models_service_pb2_grpc
    from tsforge.training.v1 import training_service_pb2_grpc
    from tsforge.upload.v1 import upload_service_pb2_grpc

    classes = {
        "upload": upload_service_pb2_grpc.UploadServiceStub,
        "training": training_service_pb2_grpc.TrainingServiceStub,
        "evaluation": evaluation_service_pb2_grpc.EvaluationServiceStub,
        "models": models_service_pb2_grpc.ModelsServiceStub,
    }
    return {name: classes[name] for name in names}


@contextlib.contextmanager
def running_upload_service(db: Database, store, **settings: str) -> Iterator[RunningUploadService]:
    """An upload service on a free port of 127.0.0.1, stopped when the block ends."""
    with running_platform(db, db.url, store, ["upload"], workers=0, **settings) as platform:
        with _stubs(platform, _stub_classes("upload")) as stubs:
            yield _upload_of(platform, stubs, store)


@contextlib.contextmanager
def running_training_stack(db, database_url: str, store, workers: int = 1, **settings) -> Iterator[TrainingStack]:
    """Upload and training services and `workers` spawned worker processes."""
    parts = ["upload", "training", WORKERS]
    with running_platform(db, database_url, store, parts, workers=workers, **settings) as platform:
        with _stubs(platform, _stub_classes("upload", "training")) as stubs:
            yield _training_of(platform, stubs, store)


@contextlib.contextmanager
def running_evaluation_stack(db, database_url: str, store, **settings) -> Iterator[EvaluationStack]:
    """The training stack (one worker) and an evaluation service."""
    parts = ["upload", "training", WORKERS, "evaluation"]
    with running_platform(db, database_url, store, parts, **settings) as platform:
        with _stubs(platform, _stub_classes("upload", "training", "evaluation")) as stubs:
            training = _training_of(platform, stubs, store)
            yield EvaluationStack(
                training, platform.server("evaluation"), stubs["evaluation"], platform.address("evaluation"), store
            )


@contextlib.contextmanager
def running_models_stack(
    db, database_url: str, store, **settings
) -> Iterator[tuple[EvaluationStack, object, object, str]]:
    """The evaluation stack and a models service: (evaluation stack, models server, its stub, its address)."""
    parts = ["upload", "training", WORKERS, "evaluation", "models"]
    with running_platform(db, database_url, store, parts, **settings) as platform:
        with _stubs(platform, _stub_classes("upload", "training", "evaluation", "models")) as stubs:
            training = _training_of(platform, stubs, store)
            evaluation = EvaluationStack(
                training, platform.server("evaluation"), stubs["evaluation"], platform.address("evaluation"), store
            )
            yield evaluation, platform.server("models"), stubs["models"], platform.address("models")


@pytest.fixture
def upload_service(db, store) -> Iterator[RunningUploadService]:
    """A running upload service over each object store in turn."""
    with running_upload_service(db, store) as service:
        yield service
