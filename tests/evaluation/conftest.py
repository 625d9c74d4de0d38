"""The evaluation package's stack (upload, training, one worker, evaluation) and one
SUCCEEDED run of three cheap models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.evaluation.helpers import MODELS, FinishedRun
from tests.plugin import EvaluationStack, new_tenant, running_evaluation_stack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb


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
