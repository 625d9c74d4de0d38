"""The evaluation stack for tests: the training stack (upload, training, one spawned
worker) plus an evaluation service, and one SUCCEEDED run of three cheap models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.platform_fixtures import Tenant, make_config, new_tenant
from tests.training.conftest import TrainingStack, running_training_stack
from tests.training.helpers import (
    build_ready_dataset,
    create_session,
    small_spec,
    upload_pair,
    wait_for_run,
)
from tsforge.core.server import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as evaluation_grpc
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb

MODELS = (
    tr.ModelSpec(model_id="linear", linear_regression={}),
    tr.ModelSpec(
        model_id="dense",
        seed=1,
        dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=3, batch_size=16)),
    ),
    tr.ModelSpec(model_id="svr", svr_mimo=tr.SvrParams(kernel=tr.SVR_KERNEL_RBF)),
)


@dataclass
class EvaluationStack:
    training: TrainingStack
    server: object  # services.evaluation.server.EvaluationServer
    stub: evaluation_grpc.EvaluationServiceStub
    address: str
    store: LocalObjectStore


@dataclass(frozen=True)
class FinishedRun:
    tenant: Tenant
    run: tr.Run
    dataset: tr.Dataset


@contextlib.contextmanager
def running_evaluation_stack(db, database_url: str, store, log_level: str = "INFO") -> Iterator[EvaluationStack]:
    from services.evaluation.server import EvaluationServer

    with running_training_stack(db, database_url, store, log_level=log_level) as training:
        config = make_config(
            training_address=training.address, upload_address=training.upload.address, log_level=log_level
        )
        server = EvaluationServer(config, db, store, "127.0.0.1:0")
        address = f"127.0.0.1:{server.port}"
        channel = client_channel(address)
        try:
            yield EvaluationStack(training, server, evaluation_grpc.EvaluationServiceStub(channel), address, store)
        finally:
            channel.close()
            server.stop(grace=0)


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory) -> Iterator[EvaluationStack]:
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_evaluation_stack(db, database_url, store) as running:
        yield running


@pytest.fixture(scope="module")
def finished(stack) -> FinishedRun:
    """A tenant's SUCCEEDED run of linear regression, a tiny Dense and an SVR."""
    tenant = new_tenant()
    training = stack.training
    spec = small_spec(*upload_pair(training.upload.stub, tenant))
    spec.split.CopyFrom(tr.SplitConfig(train_fraction=0.6, validation_fraction=0.2, test_fraction=0.2))
    dataset = build_ready_dataset(training.stub, tenant, create_session(training.stub, tenant, spec))
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=MODELS)), metadata=tenant.metadata
    ).run
    done = wait_for_run(training.stub, tenant, run.name, timeout=120)
    assert done.state == tr.RUN_STATE_SUCCEEDED, done
    return FinishedRun(tenant, done, dataset)
