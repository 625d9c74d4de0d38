"""Downloads: every format, wrong formats refused, and a bundle that a fresh Python
process with only Keras / scikit-learn / numpy and the manifest turns into the
version's test predictions."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import uuid
import zipfile

import grpc
import numpy as np

from tests.models.helpers import download, register
from tests.models.test_predict import stored_test_predictions, temperature_series
from tests.training.helpers import expect_error
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_service_pb2 as training_pb

FRESH_PROCESS = textwrap.dedent("""
    import json, sys, zipfile
    import numpy as np
    assert "services" not in sys.modules and "tsforge" not in sys.modules
    results = {}
    for bundle in sys.argv[2:]:
        archive = zipfile.ZipFile(bundle)
        m = json.loads(archive.read("manifest.json"))
        X = np.load(sys.argv[1])["x"].copy()
        def scale(s):
            span = s["data_max"] - s["data_min"]
            mult = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
            return mult, (s["range_min"] if span > 0 else (s["range_min"] + s["range_max"]) / 2)
        for j, s in enumerate(m["scalers"]["inputs"]):
            mult, anchor = scale(s); X[..., j] = (X[..., j] - s["data_min"]) * mult + anchor
        archive.extract(m["model"]["file"], "extracted-" + m["model"]["loader"])
        path = "extracted-" + m["model"]["loader"] + "/" + m["model"]["file"]
        if m["model"]["loader"] == "keras":
            import keras
            y = np.asarray(keras.saving.load_model(path, compile=False).predict(X.astype(np.float32), verbose=0))
        else:
            import joblib
            y = joblib.load(path).predict(X.reshape(len(X), -1).astype(np.float64))
            y = y.reshape(len(X), *m["model"]["output_shape"])
        y = y.astype(np.float64)
        for j, s in enumerate(m["scalers"]["outputs"]):
            mult, anchor = scale(s); y[..., j] = (y[..., j] - anchor) / mult + s["data_min"]
        results[m["model"]["loader"]] = y.tolist()
    print(json.dumps(results))
""")


def test_formats_and_wrong_formats(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"d-{uuid.uuid4().hex[:8]}"
    dense = register(stack.stub, tenant, model, stack.model("dense")).name
    linear = register(stack.stub, tenant, model, stack.model("linear")).name
    header, keras_bytes = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_KERAS)
    native = b"".join(
        m.chunk
        for m in stack.training.stub.DownloadModelArtifact(
            training_pb.DownloadModelArtifactRequest(name=stack.model("dense")), metadata=tenant.metadata
        )
    )
    assert keras_bytes == native and header.file_name.endswith(".keras")
    _, h5 = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_H5)
    assert h5.startswith(b"\x89HDF")
    _, again = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_H5)
    assert again == h5
    _, joblib_bytes = download(stack.stub, tenant, linear, common_pb2.ARTIFACT_FORMAT_JOBLIB)
    assert joblib_bytes
    header, bundle = download(stack.stub, tenant, f"registeredModels/{model}/versions/1")  # UNSPECIFIED: BUNDLE
    assert header.content_type == "application/zip" and zipfile.ZipFile(io.BytesIO(bundle)).testzip() is None
    for name, wrong in (
        (dense, common_pb2.ARTIFACT_FORMAT_JOBLIB),
        (linear, common_pb2.ARTIFACT_FORMAT_KERAS),
        (linear, common_pb2.ARTIFACT_FORMAT_H5),
    ):
        expect_error(
            lambda name=name, wrong=wrong: download(stack.stub, tenant, name, wrong), grpc.StatusCode.INVALID_ARGUMENT
        )


def test_a_bundle_reproduces_the_test_predictions_in_a_fresh_process(models_stack, tmp_path):
    from tsforge.forecasting.calendar import CalendarSpec
    from tsforge.forecasting.windowing import Feature, FeatureSpec, Series, WindowSpec, input_windows

    stack, tenant = models_stack, models_stack.tenant
    model = f"b-{uuid.uuid4().hex[:8]}"
    bundles, expected = [], {}
    for number, (model_id, loader) in enumerate((("dense", "keras"), ("linear", "sklearn-flattened")), start=1):
        register(stack.stub, tenant, model, stack.model(model_id))
        _, data = download(stack.stub, tenant, f"registeredModels/{model}/versions/{number}")
        path = tmp_path / f"{model_id}.zip"
        path.write_bytes(data)
        bundles.append(str(path))
        times, expected[loader] = stored_test_predictions(stack, model_id)
    # Unscaled input windows at the test reference times, as a user would cut them.
    raw_times, raw_values = temperature_series()
    X = input_windows(
        [Feature(FeatureSpec("temperature", -6, 0), Series(raw_times, raw_values))],
        WindowSpec(6, 3, 60),
        (times * 10**9).astype(np.int64),
        calendar=CalendarSpec(day=True),
    )
    np.savez(tmp_path / "x.npz", x=X)

    result = subprocess.run(
        [sys.executable, "-I", "-c", FRESH_PROCESS, str(tmp_path / "x.npz"), *bundles],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    produced = json.loads(result.stdout.strip().splitlines()[-1])
    for loader, values in expected.items():
        np.testing.assert_allclose(np.array(produced[loader]), values, rtol=1e-4, atol=1e-2)
