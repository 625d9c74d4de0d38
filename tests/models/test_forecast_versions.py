"""Registered versions of the new model types: Predict reproduces the run's stored test
predictions and intervals from the raw series (lag sources and the outputs' history
included), and bundles load without tsforge."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.training.build import load_arrays
from tests.models.helpers import download, register
from tests.training.helpers import build_ready_dataset, create_session, wait_for_run
from tests.training.test_forecast_models import lag_spec, noisy_pair
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb

MODELS = [
    tr.ModelSpec(model_id="gbm", lightgbm=tr.LightGbmParams(n_estimators=30, min_child_samples=5)),
    tr.ModelSpec(model_id="mstl", mstl=tr.StatisticalParams(season_hours=[24, 168])),
    tr.ModelSpec(model_id="svr", svr_direct=tr.SvrParams(kernel=tr.SVR_KERNEL_RBF)),
    tr.ModelSpec(model_id="dense", seed=2, dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=8, epochs=3))),
    tr.ModelSpec(model_id="blend", ensemble=tr.EnsembleParams(members=["gbm", "mstl"])),
]


@pytest.fixture(scope="module")
def forecast_run(models_stack):
    training, tenant = models_stack.training, models_stack.tenant
    files = noisy_pair(training.upload.stub, tenant, seed=4)
    spec = lag_spec(*files)
    del spec.lags[2]  # lags of the load only
    dataset = build_ready_dataset(training.stub, tenant, create_session(training.stub, tenant, spec))
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=MODELS)), metadata=tenant.metadata
    ).run
    run = wait_for_run(training.stub, tenant, run.name, timeout=300)
    assert run.state == tr.RUN_STATE_SUCCEEDED and all(m.state == tr.MODEL_STATE_SUCCEEDED for m in run.models), run
    return files, dataset, run


def _stored(models_stack, run: tr.Run, model_id: str) -> dict:
    model = next(m for m in run.models if m.name.endswith(f"/{model_id}"))
    ref = next(p for p in model.predictions if p.split == 3)  # DATA_SPLIT_TEST
    return load_arrays(models_stack.training.store, ref.object.key)


@pytest.mark.parametrize(("model_id", "required"), [
    ("gbm", ["temperature", "load"]),
    ("mstl", ["temperature", "load"]),
    ("blend", ["temperature", "load"]),
    ("dense", ["temperature", "load"]),
])  # fmt: skip
def test_predict_reproduces_stored_forecasts_and_intervals(models_stack, forecast_run, model_id, required):
    stack, tenant = models_stack, models_stack.tenant
    (temperature, load), _, run = forecast_run
    name = f"f-{uuid.uuid4().hex[:8]}"
    version = register(stack.stub, tenant, name, f"{run.name}/models/{model_id}")
    assert list(version.required_series) == required
    assert list(version.lineage.intervals.levels) == [0.8, 0.95]
    stored = _stored(stack, run, model_id)
    times = stored["reference_times"]
    response = stack.stub.Predict(
        pb.PredictRequest(
            name=version.name,
            reference_times=[Timestamp(seconds=int(t)) for t in times],
            files=pb.FileInputs(
                inputs=[pb.FileInput(feature="temperature", file=temperature), pb.FileInput(feature="load", file=load)]
            ),
        ),
        metadata=tenant.metadata,
    )
    values = np.array([[list(f.values) for f in forecast.features] for forecast in response.forecasts])
    np.testing.assert_allclose(values.transpose(0, 2, 1), stored["predicted"], rtol=1e-5, atol=1e-3)
    lower = np.array(
        [[[list(i.lower) for i in f.intervals] for f in forecast.features] for forecast in response.forecasts]
    )
    upper = np.array(
        [[[list(i.upper) for i in f.intervals] for f in forecast.features] for forecast in response.forecasts]
    )
    # (n, features, levels, steps) -> (n, levels, steps, features), as stored.
    np.testing.assert_allclose(lower.transpose(0, 2, 3, 1), stored["lower"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(upper.transpose(0, 2, 3, 1), stored["upper"], rtol=1e-5, atol=1e-3)
    assert [i.level for i in response.forecasts[0].features[0].intervals] == [0.8, 0.95]


def test_predict_names_a_missing_lag_source(models_stack, forecast_run):
    import grpc

    from tests.training.helpers import expect_error

    stack, tenant = models_stack, models_stack.tenant
    (temperature, _), _, run = forecast_run
    version = register(stack.stub, tenant, f"f-{uuid.uuid4().hex[:8]}", f"{run.name}/models/gbm")
    error = expect_error(
        lambda: stack.stub.Predict(
            pb.PredictRequest(
                name=version.name, files=pb.FileInputs(inputs=[pb.FileInput(feature="temperature", file=temperature)])
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "'load' is missing" in error.details() or "load" in str(error)


def test_bundles_of_lightgbm_svr_and_dense_with_lags_name_their_files_and_lags(models_stack, forecast_run):
    """A lag model's bundle names its loader, its future inputs (the lags) and LightGBM's
    text models; that the bundle forecasts on its own is test_bundle_predict's (the
    shipped predict.py, against Predict)."""
    stack, tenant = models_stack, models_stack.tenant
    _, _, run = forecast_run
    for model_id, loader in (("gbm", "lightgbm"), ("svr", "sklearn-flattened"), ("dense", "keras")):
        version = register(stack.stub, tenant, f"b-{uuid.uuid4().hex[:8]}", f"{run.name}/models/{model_id}")
        _, data = download(stack.stub, tenant, version.name)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert manifest["model"]["loader"] == loader and manifest["future_feature_names"][0] == "load.lag_24h"
            files = manifest["model"]["files"] if loader == "lightgbm" else [manifest["model"]["file"]]
            assert set(files) <= set(archive.namelist()), files
            if loader == "lightgbm":
                assert all(f.endswith(".txt") for f in files)
