"""Registered versions of the new model types: Predict reproduces the run's stored test
predictions and intervals from the raw series (lag sources and the outputs' history
included), and bundles load without tsforge."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import uuid
import zipfile

import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.training.build import load_arrays
from tests.models.helpers import download, read_series, register
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


FRESH_PROCESS = textwrap.dedent("""
    import json, sys, zipfile
    import numpy as np
    assert "services" not in sys.modules and "tsforge" not in sys.modules
    windows = np.load(sys.argv[1])
    results = {}
    for bundle in sys.argv[2:]:
        archive = zipfile.ZipFile(bundle)
        m = json.loads(archive.read("manifest.json"))
        X, F = windows["x"].copy(), windows["future"].copy()
        def scale(s):
            span = s["data_max"] - s["data_min"]
            mult = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
            return mult, (s["range_min"] if span > 0 else (s["range_min"] + s["range_max"]) / 2)
        for j, s in enumerate(m["scalers"]["inputs"]):
            mult, anchor = scale(s); X[..., j] = (X[..., j] - s["data_min"]) * mult + anchor
        for j, s in enumerate(m["scalers"].get("lags", [])):
            mult, anchor = scale(s); F[..., j] = (F[..., j] - s["data_min"]) * mult + anchor
        loader = m["model"]["loader"]
        archive.extractall("extracted-" + loader)
        path = lambda name: "extracted-" + loader + "/" + name
        steps, outputs = m["model"]["output_shape"]
        if loader == "keras":
            import keras
            model = keras.saving.load_model(path(m["model"]["file"]), compile=False)
            y = np.asarray(model.predict([X.astype(np.float32), F.astype(np.float32)], verbose=0))
        elif loader == "sklearn-flattened":
            import joblib
            rows = np.hstack([X.reshape(len(X), -1), F.reshape(len(F), -1)]).astype(np.float64)
            y = joblib.load(path(m["model"]["file"])).predict(rows).reshape(len(X), steps, outputs)
        else:
            import lightgbm
            boosters = [lightgbm.Booster(model_file=path(f)) for f in m["model"]["files"]]
            assert m["model"]["strategy"] == "direct"
            y = np.zeros((len(X), steps, outputs))
            c = m["model"]["n_calendar"]
            for k in range(steps):
                parts = [X[:, :, : X.shape[2] - c].reshape(len(X), -1), X[:, -1, X.shape[2] - c :], F[:, k, :]]
                rows = np.hstack(parts).astype(np.float64)
                for j in range(outputs):
                    y[:, k, j] = boosters[k * outputs + j].predict(rows)
        y = y.astype(np.float64)
        for j, s in enumerate(m["scalers"]["outputs"]):
            mult, anchor = scale(s); y[..., j] = (y[..., j] - anchor) / mult + s["data_min"]
        results[loader] = y.tolist()
        assert len(m["intervals"]["half_widths"]) == len(m["intervals"]["levels"]) == 2
    print(json.dumps(results))
""")


def test_bundles_of_lightgbm_svr_and_dense_with_lags_load_without_tsforge(models_stack, forecast_run, tmp_path):
    from tsforge.forecasting.prediction import prediction_inputs

    stack, tenant = models_stack, models_stack.tenant
    (temperature, load), dataset, run = forecast_run
    bundles, expected = [], {}
    for model_id, loader in (("gbm", "lightgbm"), ("svr", "sklearn-flattened"), ("dense", "keras")):
        name = f"b-{uuid.uuid4().hex[:8]}"
        version = register(stack.stub, tenant, name, f"{run.name}/models/{model_id}")
        _, data = download(stack.stub, tenant, version.name)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert manifest["model"]["loader"] == loader and manifest["future_feature_names"][0] == "load.lag_24h"
            if loader == "lightgbm":
                assert all(f.endswith(".txt") for f in manifest["model"]["files"])
        path = tmp_path / f"{model_id}.zip"
        path.write_bytes(data)
        bundles.append(str(path))
        expected[loader] = _stored(stack, run, model_id)["predicted"]
    # Raw (unscaled) windows at the test reference times, cut as a user would.
    times = _stored(stack, run, "gbm")["reference_times"]
    spec = dataset.spec
    series = {
        "temperature": read_series(stack, tenant, temperature, spec.inputs[0].column),
        "load": read_series(stack, tenant, load, spec.outputs[0].column),
    }
    inputs = prediction_inputs(spec, _unscaled(dataset), series, times * 10**9, None)
    np.savez(tmp_path / "windows.npz", x=inputs.x, future=inputs.future)

    result = subprocess.run(
        [sys.executable, "-I", "-c", FRESH_PROCESS, str(tmp_path / "windows.npz"), *bundles],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    produced = json.loads(result.stdout.strip().splitlines()[-1])
    for loader, values in expected.items():
        np.testing.assert_allclose(np.array(produced[loader]), values, rtol=1e-4, atol=1e-2, err_msg=loader)


def _unscaled(dataset):
    """Scalers that leave values as they are (the bundle's user scales them)."""
    from tsforge.forecasting.protos import scalers_from_protos
    from tsforge.forecasting.scaling import FeatureScaler, MinMaxScalers

    def same(scalers):
        return tuple(FeatureScaler(s.feature, 0.0, 1.0, 0.5, 0.0, 1.0) for s in scalers)

    fitted = scalers_from_protos(dataset.scalers)
    return MinMaxScalers(same(fitted.inputs), same(fitted.outputs), same(fitted.lags))
