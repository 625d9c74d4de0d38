"""Calls the models tests share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tests.plugin import EvaluationStack, Tenant, TrainingStack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb

LINEAR = tr.ModelSpec(model_id="linear", linear_regression={})
DENSE = tr.ModelSpec(
    model_id="dense", seed=3, dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=8, epochs=3, batch_size=16))
)


@dataclass
class ModelsStack:
    training: TrainingStack
    evaluation: EvaluationStack
    server: object  # services.models.server.ModelsServer
    stub: object  # ModelsServiceStub
    address: str
    tenant: Tenant  # owns `run`
    files: tuple[str, str]  # (temperature, load) uploaded files of `tenant`
    run: tr.Run  # SUCCEEDED, models "linear" and "dense"

    def model(self, model_id: str) -> str:
        return f"{self.run.name}/models/{model_id}"


def start_run(training: TrainingStack, tenant: Tenant, *specs: tr.ModelSpec, files=None) -> tr.Run:
    files = files or upload_pair(training.upload.stub, tenant)
    session = create_session(training.stub, tenant, small_spec(*files))
    dataset = build_ready_dataset(training.stub, tenant, session)
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=list(specs))),
        metadata=tenant.metadata,
    ).run
    run = wait_for_run(training.stub, tenant, run.name)
    assert run.state == tr.RUN_STATE_SUCCEEDED, run
    return run


def register(stub, tenant, model: str, source_model: str, **fields) -> mr.ModelVersion:
    return stub.RegisterModelVersion(
        pb.RegisterModelVersionRequest(
            parent=f"registeredModels/{model}", model_version=mr.ModelVersion(source_model=source_model, **fields)
        ),
        metadata=tenant.metadata,
    ).model_version


def download(stub, tenant, name: str, format: int = 0) -> tuple[object, bytes]:
    header, body = None, bytearray()
    for message in stub.DownloadModelVersion(
        pb.DownloadModelVersionRequest(name=name, format=format), metadata=tenant.metadata
    ):
        if message.HasField("header"):
            assert header is None and not body
            header = message.header
        else:
            assert len(message.chunk) <= 1 << 20
            body += message.chunk
    assert header is not None and header.size_bytes == len(body)
    assert header.sha256 == hashlib.sha256(body).hexdigest()
    return header, bytes(body)


def read_series(stack, tenant: Tenant, name: str, column: str):
    """A file's column as the upload service reads it for the platform (times, values)."""
    from tests.plugin import JWT_SECRET
    from tsforge.core.clients import UploadClient

    client = UploadClient(stack.training.upload.address, JWT_SECRET)
    try:
        return client.read_series(tenant.name, name, column)
    finally:
        client.close()
