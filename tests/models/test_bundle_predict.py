"""A downloaded bundle forecasts on its own: its predict.py, run by an interpreter that
cannot import tsforge, turns a history CSV into the forecasts the registry's Predict
gives for the same reference times (Keras, scikit-learn, LightGBM, ensembles of them),
refuses the models it cannot run with a clear message and exit code 3, and no pickle
in any bundle names a tsforge or services class. The README states the version's own
features, window points, calendar encoding and scalers."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import sysconfig
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from tests.models.helpers import download, read_series, register
from tests.training.helpers import build_ready_dataset, create_session, wait_for_run
from tests.training.test_forecast_models import noisy_pair
from tsforge.common.v1 import common_pb2
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb

ZONE = "Europe/Vienna"
NEURAL = tr.NeuralParams(layers=1, units=8, epochs=2)
MODELS = [
    tr.ModelSpec(model_id="dense", seed=2, dense=tr.DenseParams(neural=NEURAL)),
    tr.ModelSpec(model_id="linear", linear_regression={}),
    tr.ModelSpec(model_id="svr-mimo", svr_mimo=tr.SvrParams(kernel=tr.SVR_KERNEL_RBF)),
    tr.ModelSpec(
        model_id="gbm",
        lightgbm=tr.LightGbmParams(n_estimators=20, min_child_samples=5, strategy=tr.LIGHT_GBM_STRATEGY_STEP_FEATURE),
    ),
    tr.ModelSpec(model_id="gbm-direct", lightgbm=tr.LightGbmParams(n_estimators=10, min_child_samples=5)),
    tr.ModelSpec(model_id="naive", seasonal_naive=tr.StatisticalParams(season_hours=[24])),
    tr.ModelSpec(model_id="blend", ensemble=tr.EnsembleParams(members=["linear", "gbm-direct"])),
    tr.ModelSpec(model_id="blend-naive", ensemble=tr.EnsembleParams(members=["gbm", "naive"])),
]
MEASURED: dict[str, float] = {}


def _spec(temperature: str, load: str) -> tr.DatasetSpec:
    """Every kind of input: a mean-resampled input, lags (linear and nearest) and, in
    Vienna's time zone, calendar and holiday columns on both windows."""
    calendar = tr.CalendarFeatures(day=True, week=True, year=True, holiday=True, holiday_country="AT", time_zone=ZONE)
    return tr.DatasetSpec(
        inputs=[
            tr.FeatureSpec(
                file=temperature,
                horizon=common_pb2.HorizonHours(start=-6, end=0),
                resampling=common_pb2.RESAMPLING_METHOD_MEAN,
            )
        ],
        outputs=[tr.FeatureSpec(file=load, horizon=common_pb2.HorizonHours(start=0, end=3))],
        window=tr.WindowConfig(input_steps=6, output_steps=3, step_minutes=60),
        calendar=calendar,
        lags=[
            tr.LagFeature(lag_hours=24),
            tr.LagFeature(file=temperature, lag_hours=24, resampling=common_pb2.RESAMPLING_METHOD_NEAREST),
        ],
        future_calendar=tr.CalendarFeatures(day=True, holiday=True, holiday_country="AT", time_zone=ZONE),
    )


@pytest.fixture(scope="module")
def bundle_run(models_stack):
    training, tenant = models_stack.training, models_stack.tenant
    files = noisy_pair(training.upload.stub, tenant, hours=24 * 14, seed=7)
    dataset = build_ready_dataset(training.stub, tenant, create_session(training.stub, tenant, _spec(*files)))
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=MODELS)), metadata=tenant.metadata
    ).run
    run = wait_for_run(training.stub, tenant, run.name, timeout=300)
    assert run.state == tr.RUN_STATE_SUCCEEDED and all(m.state == tr.MODEL_STATE_SUCCEEDED for m in run.models), run
    return files, dataset, run


@pytest.fixture(scope="module")
def bundle_python(tmp_path_factory) -> Path:
    """An interpreter that has numpy, Keras, scikit-learn and LightGBM but not tsforge:
    a virtual environment whose one .pth file adds this environment's site-packages.
    That directory's own .pth files (the editable install of tsforge) are not read."""
    home = tmp_path_factory.mktemp("bundle-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=60)
    python = home / "bin" / "python"
    site = subprocess.run(
        [python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "bundle-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _reads_back(models_stack, run: tr.Run, model_id: str) -> np.ndarray:
    """The test split's reference times (ns) of a model."""
    seconds = []
    for message in models_stack.training.stub.ReadPredictions(
        training_pb.ReadPredictionsRequest(name=f"{run.name}/models/{model_id}", split=common_pb2.DATA_SPLIT_TEST),
        metadata=models_stack.tenant.metadata,
    ):
        if not message.HasField("header"):
            seconds += [t.seconds for t in message.chunk.reference_times]
    return np.array(seconds, dtype=np.int64) * 10**9


def _iso(ns: int) -> str:
    return f"{np.datetime64(int(ns), 'ns').astype('datetime64[s]')}Z"


def _write_history(path: Path, series: dict) -> None:
    """The history CSV of the README: timestamp, then one column per series (empty: no value)."""
    table: dict[int, dict[str, float]] = {}
    for name, s in series.items():
        for t, v in zip(np.asarray(s.times).astype("datetime64[ns]").view(np.int64), s.values):
            table.setdefault(int(t), {})[name] = float(v)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", *series])
        for t in sorted(table):
            writer.writerow([_iso(t), *(repr(table[t][n]) if n in table[t] else "" for n in series)])


def _unpack(stack, tenant, source_model: str, directory: Path) -> tuple[mr.ModelVersion, dict]:
    version = register(stack.stub, tenant, f"bp-{uuid.uuid4().hex[:8]}", source_model)
    _, data = download(stack.stub, tenant, version.name)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(directory)
    return version, json.loads((directory / "manifest.json").read_text())


def _predict(stack, tenant, version, files: dict[str, str], references: np.ndarray):
    """Predict's forecasts as (values (n, steps, outputs), lower, upper (n, levels, steps, outputs))."""
    response = stack.stub.Predict(
        pb.PredictRequest(
            name=version.name,
            reference_times=[Timestamp(seconds=int(r // 10**9)) for r in references],
            files=pb.FileInputs(inputs=[pb.FileInput(feature=f, file=file) for f, file in files.items()]),
        ),
        metadata=tenant.metadata,
    )
    values = np.array([[list(f.values) for f in forecast.features] for forecast in response.forecasts])
    lower = np.array([[[list(i.lower) for i in f.intervals] for f in fc.features] for fc in response.forecasts])
    upper = np.array([[[list(i.upper) for i in f.intervals] for f in fc.features] for fc in response.forecasts])
    return values.transpose(0, 2, 1), lower.transpose(0, 2, 3, 1), upper.transpose(0, 2, 3, 1)


def _run_predict_py(python: Path, directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-I", "predict.py", *args], cwd=directory, capture_output=True, text=True, timeout=180
    )


def _read_forecast(path: Path, references, outputs, steps, levels):
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(references) * len(outputs) * steps
    values = np.array([float(r["value"]) for r in rows]).reshape(len(references), len(outputs), steps)
    bounds = {
        side: np.array([[float(r[f"{side}_{level:g}"]) for level in levels] for r in rows])
        .reshape(len(references), len(outputs), steps, len(levels))
        .transpose(0, 3, 2, 1)
        for side in ("lower", "upper")
    }
    assert [r["reference_time"] for r in rows[:: len(outputs) * steps]] == [_iso(r) for r in references]
    return values.transpose(0, 2, 1), bounds["lower"], bounds["upper"], rows


@pytest.mark.parametrize(
    ("model_id", "loader"),
    [
        ("dense", "keras"),
        ("linear", "sklearn-flattened"),
        ("svr-mimo", "sklearn-step-indexed"),
        ("gbm", "lightgbm"),
        ("blend", "ensemble"),
    ],
)
def test_predict_py_reproduces_predict(models_stack, bundle_run, bundle_python, tmp_path, model_id, loader):
    stack, tenant = models_stack, models_stack.tenant
    (temperature, load), dataset, run = bundle_run
    version, manifest = _unpack(stack, tenant, f"{run.name}/models/{model_id}", tmp_path)
    assert manifest["model"]["loader"] == loader and manifest["layout"]["supported"]
    importing = subprocess.run(
        [str(bundle_python), "-I", "-c", "import tsforge"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert importing.returncode != 0 and "No module named 'tsforge'" in importing.stderr, importing.stderr

    references = _reads_back(stack, run, model_id)[::3]
    (tmp_path / "times.csv").write_text("reference_time\n" + "".join(_iso(r) + "\n" for r in references))
    spec = dataset.spec
    _write_history(
        tmp_path / "history.csv",
        {
            "temperature": read_series(stack, tenant, temperature, spec.inputs[0].column),
            "load": read_series(stack, tenant, load, spec.outputs[0].column),
        },
    )
    result = _run_predict_py(bundle_python, tmp_path, "history.csv", "forecast.csv", "--reference-times", "times.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    levels = manifest["intervals"]["levels"]
    produced, lower, upper, rows = _read_forecast(tmp_path / "forecast.csv", references, ["load"], 3, levels)
    expected, expected_lower, expected_upper = _predict(
        stack, tenant, version, {"temperature": temperature, "load": load}, references
    )
    np.testing.assert_allclose(produced, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lower, expected_lower, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(upper, expected_upper, rtol=1e-5, atol=1e-6)
    assert rows[0]["time"] == _iso(references[0] + 3_600 * 10**9) and rows[0]["step"] == "1"
    MEASURED[model_id] = float(np.abs(produced - expected).max())
    print(f"{model_id}: {len(references)} reference times, max |predict.py - Predict| = {MEASURED[model_id]:.3g}")


def test_predict_py_refuses_statistical_models_clearly(models_stack, bundle_run, bundle_python, tmp_path):
    stack, tenant = models_stack, models_stack.tenant
    _, _, run = bundle_run
    for model_id in ("naive", "blend-naive"):  # a statistical model, and an ensemble with one
        directory = tmp_path / model_id
        _, manifest = _unpack(stack, tenant, f"{run.name}/models/{model_id}", directory)
        assert not manifest["layout"]["supported"]
        (directory / "history.csv").write_text("timestamp,temperature,load\n")
        result = _run_predict_py(bundle_python, directory, "history.csv", "forecast.csv")
        assert result.returncode == 3, (result.returncode, result.stderr)
        assert "MODEL_TYPE_SEASONAL_NAIVE is a statistical model" in result.stderr
        assert "Predict" in result.stderr and not (directory / "forecast.csv").exists()
        readme = (directory / "README.md").read_text()
        assert "## predict.py: not for this model" in readme and "exits with code 3" in readme


def test_the_readme_states_this_versions_inputs(models_stack, bundle_run, tmp_path):
    stack, tenant = models_stack, models_stack.tenant
    _, dataset, run = bundle_run
    _, manifest = _unpack(stack, tenant, f"{run.name}/models/gbm", tmp_path)
    readme = (tmp_path / "README.md").read_text()
    names = list(dataset.input_feature_names)
    assert names[0] == "temperature" and len(names) == 1 + 2 * 3 + 1
    x = f"## Input window X: shape (n, 6, {len(names)})"
    assert x in readme
    columns = readme[readme.index(x) : readme.index("## Future window F")]
    for j, name in enumerate(names):  # every feature, in its column, in order
        assert f"\n{j}. `{name}`" in columns
    assert "point k (k = 1..6) at r − (6 − k)·1 h: r − 5 h, r − 4 h, …, r" in columns
    assert "temperature`, mean" in columns
    assert f"wall clock of `{ZONE}`" in columns and "public holiday of AT" in columns
    future = readme[readme.index("## Future window F") : readme.index("## Resampling")]
    assert "## Future window F: shape (n, 3, 5)" in future
    assert "0. `load.lag_24h` (a lag): series `load`, linear" in future
    assert "1. `temperature.lag_24h` (a lag): series `temperature`, nearest" in future
    assert "r − 23 h, r − 22 h, r − 21 h" in future and "`future.calendar.holiday`" in future
    scalers = manifest["scalers"]
    for role, s in (("input", scalers["inputs"][0]), ("lag", scalers["lags"][1]), ("output", scalers["outputs"][0])):
        assert f"| {role} | `{s['feature']}` | {s['data_min']!r} | {s['data_max']!r} |" in readme
    assert "scaled = (x − data_min) · m + a" in readme
    assert "history.csv**: a header `timestamp,temperature,load`" in readme
    assert "0. `load`: step k (k = 1..3) at r + 3 h − (3 − k)·1 h: r + 1 h, r + 2 h, r + 3 h" in readme


def _pickle_modules(path: Path) -> set[str]:
    """Every module a joblib pickle's classes come from, read without running them."""
    from joblib.numpy_pickle import NumpyUnpickler

    found: set[str] = set()

    class Recording(NumpyUnpickler):
        def find_class(self, module, name):
            found.add(module)
            return super().find_class(module, name)

    with path.open("rb") as handle:
        Recording(str(path), handle, ensure_native_byte_order=False).load()
    return found


def test_no_pickle_in_any_bundle_names_a_tsforge_class(models_stack, bundle_run, tmp_path):
    stack, tenant = models_stack, models_stack.tenant
    _, _, run = bundle_run
    kinds = {}
    for model in run.models:
        model_id = model.name.rsplit("/", 1)[1]
        directory = tmp_path / model_id
        _, manifest = _unpack(stack, tenant, model.name, directory)
        kinds[manifest["model"]["loader"]] = model_id
        pickles = [p for p in directory.rglob("*") if p.is_file() and p.read_bytes()[:1] == b"\x80"]
        assert all(p.suffix == ".joblib" for p in pickles), pickles
        for path in pickles:
            modules = _pickle_modules(path)
            assert modules and not {m for m in modules if m.split(".")[0] in ("tsforge", "services")}, (path, modules)
        for keras_file in directory.rglob("*.keras"):
            with zipfile.ZipFile(keras_file) as archive:
                assert b"tsforge" not in archive.read("config.json"), keras_file
    assert set(kinds) == {"keras", "sklearn-flattened", "sklearn-step-indexed", "lightgbm", "statsforecast", "ensemble"}
