"""The real parts the benchmarks run against: a throw-away PostgreSQL database, a moto
S3 server process, a service (upload, models) in a process of its own, and a training
stack (upload and training services plus spawned training workers)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.moto_server import start_moto, stop_process
from tsforge.core.auth import issue_token
from tsforge.core.channels import client_channel
from tsforge.core.config import load_config
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from tsforge.training.v1 import training_service_pb2_grpc as training_grpc
from tsforge.upload.v1 import upload_service_pb2_grpc as upload_grpc

ADMIN_URL = os.environ.get("TSFORGE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A fresh secret per benchmark run: a fixed one written here would be a published secret.
JWT_SECRET = secrets.token_urlsafe(48)
S3_ACCESS_KEY = S3_SECRET_KEY = "testing"
_SERVER_START_TIMEOUT_S = 60.0


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """Create `tsforge_bench_<random>` on the PostgreSQL server, yield its URL, drop it after.

    Raises psycopg.OperationalError when the server is not reachable.
    """
    name = f"tsforge_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class StoreSpec:
    """Where an object store lives, so the bench and the server process open the same one."""

    local_root: Path | None = None
    s3_endpoint: str | None = None
    s3_bucket: str = "tsforge-bench"

    @property
    def kind(self) -> str:
        return "local" if self.local_root else "s3"

    def open(self) -> ObjectStore:
        if self.local_root:
            return LocalObjectStore(self.local_root)
        return S3ObjectStore.from_settings(
            endpoint=self.s3_endpoint or "",
            access_key=S3_ACCESS_KEY,
            secret_key=S3_SECRET_KEY,
            bucket=self.s3_bucket,
            secure=False,
            region="us-east-1",
        )

    def arguments(self) -> list[str]:
        if self.local_root:
            return ["--local-root", str(self.local_root)]
        return [
            "--s3-endpoint",
            self.s3_endpoint or "",
            "--s3-bucket",
            self.s3_bucket,
            "--s3-access-key",
            S3_ACCESS_KEY,
            "--s3-secret-key",
            S3_SECRET_KEY,
        ]


@contextlib.contextmanager
def moto_s3(folder: Path) -> Iterator[StoreSpec]:
    """A moto S3 server process on loopback, with a fresh bucket name, for the block."""
    process, port = start_moto(folder / "moto_server.log")
    try:
        yield StoreSpec(s3_endpoint=f"127.0.0.1:{port}", s3_bucket=f"bench-{uuid.uuid4().hex[:12]}")
    finally:
        stop_process(process)


@dataclass(frozen=True)
class ServiceProcess:
    pid: int
    address: str


@contextlib.contextmanager
def service_process(
    database_url: str,
    store: StoreSpec,
    log_path: Path,
    service: str = "upload",
    addresses: dict[str, str] | None = None,
    jwt_secret: str = JWT_SECRET,
) -> Iterator[ServiceProcess]:
    """Run `python -m bench.service_process --service SERVICE` until the block ends.

    Raises RuntimeError with the server's log when it does not come up.
    """
    command = [
        sys.executable,
        "-m",
        "bench.service_process",
        "--service",
        service,
        "--database-url",
        database_url,
        "--jwt-secret",
        jwt_secret,
        *store.arguments(),
        *(f"--address={name}={address}" for name, address in (addresses or {}).items()),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    try:
        port = _read_port(process, log_path)
        yield ServiceProcess(process.pid, f"127.0.0.1:{port}")
    finally:
        stop_process(process)


def _read_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    assert process.stdout is not None  # started with stdout=PIPE
    ready, _, _ = select.select([process.stdout], [], [], _SERVER_START_TIMEOUT_S)
    line = process.stdout.readline() if ready else b""
    if not line:
        raise RuntimeError("the server process did not start; log:\n" + log_path.read_text(errors="replace")[-4000:])
    return int(json.loads(line)["port"])


@dataclass(frozen=True)
class TrainingStack:
    upload: upload_grpc.UploadServiceStub
    training: training_grpc.TrainingServiceStub
    store: ObjectStore


@contextlib.contextmanager
def training_stack(database_url: str, data_dir: Path, workers: int = 1) -> Iterator[TrainingStack]:
    """The upload and training services in this process on 127.0.0.1, and `workers`
    spawned training worker processes, over a local object store in data_dir/objects.

    The workers start importing at once; the first run they train also imports TensorFlow.
    """
    from services.training.server import TrainingServer
    from services.training.worker import WorkerPool
    from services.upload.server import UploadServer

    settings = {
        "TSFORGE_JWT_SECRET": JWT_SECRET,
        "TSFORGE_DATA_DIR": str(data_dir),
        "TSFORGE_SERVER_THREADS": "16",
        "TSFORGE_TRAINING_WORKERS": str(workers),
        "TSFORGE_LOG_LEVEL": "WARNING",
        "TSFORGE_LOG_JSON": "false",
    }
    db = Database(database_url)
    store = LocalObjectStore(data_dir / "objects")
    with contextlib.ExitStack() as stack:
        stack.callback(db.dispose)
        upload = UploadServer(load_config(settings), db, store, "127.0.0.1:0")
        stack.callback(upload.stop, grace=0)
        settings["TSFORGE_UPLOAD_ADDRESS"] = f"127.0.0.1:{upload.port}"
        training = TrainingServer(load_config(settings), db, store, "127.0.0.1:0", database_url)
        stack.callback(training.stop, grace=0)
        settings["TSFORGE_TRAINING_ADDRESS"] = f"127.0.0.1:{training.port}"
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("TSFORGE_")}
        pool = WorkerPool(workers, {**inherited, **settings}, database_url)
        stack.callback(pool.stop)
        upload_channel = stack.enter_context(client_channel(settings["TSFORGE_UPLOAD_ADDRESS"]))
        training_channel = stack.enter_context(client_channel(settings["TSFORGE_TRAINING_ADDRESS"]))
        yield TrainingStack(
            upload_grpc.UploadServiceStub(upload_channel), training_grpc.TrainingServiceStub(training_channel), store
        )


def tenant_metadata(tenant: str = "bench") -> tuple[tuple[str, str], ...]:
    """gRPC call metadata authenticating as `tenant` to servers started here."""
    return (("authorization", f"Bearer {issue_token(JWT_SECRET, tenant)}"),)
