"""The models stack for tests: upload + training (one spawned worker) + evaluation + a
models service on port 0, and one SUCCEEDED run with a linear regression and a tiny
dense model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.evaluation.conftest import EvaluationStack, running_evaluation_stack
from tests.platform_fixtures import Tenant, make_config, new_tenant
from tests.training.conftest import TrainingStack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
from tsforge.core.server import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.models.v1 import models_service_pb2_grpc as models_grpc
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
    stub: models_grpc.ModelsServiceStub
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


# Package scope: its worker must be gone before other packages queue jobs in the same
# database, or it would claim them.
@pytest.fixture(scope="package")
def models_stack(db, database_url, tmp_path_factory) -> Iterator[ModelsStack]:
    from services.models.server import ModelsServer
    from tsforge.forecasting.estimators.keras_models import configure_runtime

    # Predict runs TensorFlow in this process: set its threads as the Keras unit tests
    # do (tsforge/forecasting/estimators/tests), which must happen before any TF operation.
    configure_runtime(2)
    store = LocalObjectStore(tmp_path_factory.mktemp("models-data") / "objects")
    with running_evaluation_stack(db, database_url, store) as evaluation:
        training = evaluation.training
        config = make_config(
            upload_address=training.upload.address,
            training_address=training.address,
            evaluation_address=evaluation.address,
        )
        server = ModelsServer(config, db, store, "127.0.0.1:0")
        address = f"127.0.0.1:{server.port}"
        channel = client_channel(address)
        try:
            tenant = new_tenant()
            files = upload_pair(training.upload.stub, tenant)
            run = start_run(training, tenant, LINEAR, DENSE, files=files)
            yield ModelsStack(
                training, evaluation, server, models_grpc.ModelsServiceStub(channel), address, tenant, files, run
            )
        finally:
            channel.close()
            server.stop(grace=0)
