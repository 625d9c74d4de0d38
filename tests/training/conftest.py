"""The training stack for tests: an upload service, a training service and spawned
worker processes, all real, against the test PostgreSQL and a local object store."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.platform_fixtures import JWT_SECRET, make_config, running_upload_service
from tsforge.core.server import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_service_pb2_grpc as training_grpc


@dataclass
class TrainingStack:
    upload: object  # RunningUploadService
    training: object  # services.training.server.TrainingServer
    stub: training_grpc.TrainingServiceStub
    address: str
    store: LocalObjectStore
    env: dict


@contextlib.contextmanager
def running_training_stack(db, database_url: str, store, workers: int = 1, **settings) -> Iterator[TrainingStack]:
    from services.training.server import TrainingServer
    from services.training.worker import WorkerPool

    with running_upload_service(db, store, **settings) as upload:
        config = make_config(upload_address=upload.address, **settings)
        training = TrainingServer(config, db, store, "127.0.0.1:0", database_url)
        address = f"127.0.0.1:{training.port}"
        env = {
            **os.environ,
            "TSFORGE_JWT_SECRET": JWT_SECRET,
            "TSFORGE_UPLOAD_ADDRESS": upload.address,
            "TSFORGE_TRAINING_ADDRESS": address,
            "TSFORGE_DATA_DIR": str(store.root.parent),
            "TSFORGE_LOG_JSON": "false",
            **{f"TSFORGE_{k.upper()}": v for k, v in settings.items()},
        }
        env.pop("TSFORGE_S3_ENDPOINT", None)
        pool = WorkerPool(workers, env, database_url) if workers else None
        channel = client_channel(address)
        try:
            yield TrainingStack(upload, training, training_grpc.TrainingServiceStub(channel), address, store, env)
        finally:
            channel.close()
            if pool:
                pool.stop()
            training.stop(grace=0)


@pytest.fixture(scope="module")
def training_stack(db, database_url, tmp_path_factory) -> Iterator[TrainingStack]:
    """One stack with one worker for a module's tests (starting a worker costs seconds)."""
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_training_stack(db, database_url, store) as stack:
        yield stack
