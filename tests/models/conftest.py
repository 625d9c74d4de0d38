"""The models package's stack: upload + training (one spawned worker) + evaluation + a
models service, and one SUCCEEDED run with a linear regression and a tiny dense model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.models.helpers import DENSE, LINEAR, ModelsStack, start_run
from tests.plugin import new_tenant, running_models_stack
from tests.training.helpers import upload_pair
from tsforge.core.storage import LocalObjectStore


@pytest.fixture(scope="package")
def models_stack(db, database_url, tmp_path_factory) -> Iterator[ModelsStack]:
    from tsforge.forecasting.estimators.keras_models import configure_runtime

    # Predict runs TensorFlow in this process: set its threads as the Keras unit tests
    # do (tsforge/forecasting/estimators/tests), which must happen before any TF operation.
    configure_runtime(2)
    store = LocalObjectStore(tmp_path_factory.mktemp("models-data") / "objects")
    with running_models_stack(db, database_url, store) as (evaluation, server, stub, address):
        training = evaluation.training
        tenant = new_tenant()
        files = upload_pair(training.upload.stub, tenant)
        run = start_run(training, tenant, LINEAR, DENSE, files=files)
        yield ModelsStack(training, evaluation, server, stub, address, tenant, files, run)
