"""What a version is made of: its lineage, and the BUNDLE zip (model, scalers, manifest,
README) that lets anyone load and use it with numpy and the model's own library alone
(Keras, scikit-learn, LightGBM or statsforecast): no file in it unpickles into a tsforge
class."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from google.protobuf import json_format

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.prediction import required_series
from tsforge.forecasting.protos import lag_source_name, scalers_from_protos
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.training.v1 import training_resources_pb2 as tr

MANIFEST_VERSION = 1
STATISTICAL_TYPES = frozenset(
    {
        common_pb2.MODEL_TYPE_MSTL,
        common_pb2.MODEL_TYPE_AUTO_ETS,
        common_pb2.MODEL_TYPE_AUTO_ARIMA,
        common_pb2.MODEL_TYPE_SEASONAL_NAIVE,
    }
)
ARTIFACT_FORMAT_NAMES = {
    common_pb2.ARTIFACT_FORMAT_KERAS: "keras",
    common_pb2.ARTIFACT_FORMAT_JOBLIB: "joblib",
    common_pb2.ARTIFACT_FORMAT_LIGHTGBM: "lightgbm",
    common_pb2.ARTIFACT_FORMAT_ENSEMBLE: "ensemble",
}
KERAS_TYPES = frozenset(
    {common_pb2.MODEL_TYPE_DENSE, common_pb2.MODEL_TYPE_CNN, common_pb2.MODEL_TYPE_LSTM, common_pb2.MODEL_TYPE_AR_LSTM}
)
_RESAMPLING = {
    common_pb2.RESAMPLING_METHOD_UNSPECIFIED: "linear",
    common_pb2.RESAMPLING_METHOD_LINEAR: "linear",
    common_pb2.RESAMPLING_METHOD_MEAN: "mean",
    common_pb2.RESAMPLING_METHOD_NEAREST: "nearest",
}


def needs_history(run: tr.Run, model: tr.ModelResult) -> bool:
    """Whether the model forecasts from the outputs' own past: a statistical model, or
    an ensemble with one among its members."""
    if model.model_type in STATISTICAL_TYPES:
        return True
    if model.model_type == common_pb2.MODEL_TYPE_ENSEMBLE:
        members = {f"{run.name}/models/{m}" for m in model.spec.ensemble.members}
        return any(m.model_type in STATISTICAL_TYPES for m in run.models if m.name in members)
    return False


def lineage_of(run: tr.Run, model: tr.ModelResult, dataset: tr.Dataset) -> mr.ModelLineage:
    """The snapshot a version keeps, without evaluation metrics (the registry adds them)."""
    lineage = mr.ModelLineage(
        session=run.session,
        dataset=run.dataset,
        run=run.name,
        model=model.name,
        model_type=model.model_type,
        model_spec=model.spec,
        dataset_spec=dataset.spec,
        input_feature_names=dataset.input_feature_names,
        output_feature_names=dataset.output_feature_names,
        scalers=dataset.scalers,
    )
    if dataset.HasField("gap_tolerance"):
        lineage.gap_tolerance.CopyFrom(dataset.gap_tolerance)
    if model.HasField("intervals"):
        lineage.intervals.CopyFrom(model.intervals)
    lineage.required_series.extend(required_series(dataset.spec, needs_history(run, model)))
    return lineage


def version_required_series(lineage: mr.ModelLineage) -> list[str]:
    """The series Predict needs (versions registered before lineages listed them: the
    inputs and the lag sources)."""
    return list(lineage.required_series) or required_series(lineage.dataset_spec)


def scalers_json(lineage: mr.ModelLineage) -> bytes:
    """The bundle's scalers.json: the same document the dataset build stores."""
    return json.dumps(scalers_from_protos(lineage.scalers).to_dict()).encode()


def formats_for(model_type: int, artifact_format: int = common_pb2.ARTIFACT_FORMAT_UNSPECIFIED) -> tuple[int, ...]:
    """Download formats a model type offers: the bundle and its native artifact. The
    autoregressive LSTM is a subclassed Keras model, which the legacy HDF5 format
    cannot hold."""
    if artifact_format in (common_pb2.ARTIFACT_FORMAT_LIGHTGBM, common_pb2.ARTIFACT_FORMAT_ENSEMBLE):
        return (common_pb2.ARTIFACT_FORMAT_BUNDLE, artifact_format)
    if model_type not in KERAS_TYPES:
        return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_JOBLIB)
    if model_type == common_pb2.MODEL_TYPE_AR_LSTM:
        return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_KERAS)
    return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_KERAS, common_pb2.ARTIFACT_FORMAT_H5)


def manifest(registered_model: str, lineage: mr.ModelLineage, files, scalers: dict) -> dict:
    """The bundle's manifest.json; `files` the ModelFiles of its model."""
    spec = lineage.dataset_spec
    window = spec.window

    def features(items):
        return [
            {
                "feature": f.feature,
                "file": f.file,
                "column": f.column,
                "horizon_hours": [f.horizon.start, f.horizon.end],
                "resampling": _RESAMPLING[f.resampling],
                "scaling_range": [f.scaling.min, f.scaling.max],
            }
            for f in items
        ]

    return {
        "format": "tsforge-model-bundle",
        "format_version": MANIFEST_VERSION,
        "registered_model": registered_model,
        "source_model": lineage.model,
        "model": {
            **files.details,
            "loader": files.loader,
            "type": common_pb2.ModelType.Name(lineage.model_type),
            "input_shape": [window.input_steps, len(lineage.input_feature_names)],
            "future_shape": [window.output_steps, len(spec.lags) + len(_future_calendar_names(spec))],
            "output_shape": [window.output_steps, len(lineage.output_feature_names)],
        },
        "window": {
            "input_steps": window.input_steps,
            "output_steps": window.output_steps,
            "step_minutes": window.step_minutes,
            "offset_minutes": window.offset_minutes,
        },
        "inputs": features(spec.inputs),
        "outputs": features(spec.outputs),
        "lags": [
            {
                "feature": lag.feature,
                "source": lag_source_name(spec, lag),
                "file": lag.file,
                "column": lag.column,
                "lag_hours": lag.lag_hours,
                "resampling": _RESAMPLING[lag.resampling],
                "scaling_range": [lag.scaling.min, lag.scaling.max],
            }
            for lag in spec.lags
        ],
        "calendar": json_format.MessageToDict(spec.calendar, preserving_proto_field_name=True),
        "future_calendar": json_format.MessageToDict(spec.future_calendar, preserving_proto_field_name=True),
        "input_feature_names": list(lineage.input_feature_names),
        "future_feature_names": [lag.feature for lag in spec.lags] + _future_calendar_names(spec),
        "output_feature_names": list(lineage.output_feature_names),
        "required_series": version_required_series(lineage),
        "intervals": {
            "levels": list(lineage.intervals.levels),
            # [level][step][feature], original units.
            "half_widths": np.asarray(lineage.intervals.half_widths, dtype=np.float64)
            .reshape(len(lineage.intervals.levels), window.output_steps, len(spec.outputs))
            .tolist(),
        },
        "scalers": scalers,
        "gap_tolerance_seconds": lineage.gap_tolerance.ToTimedelta().total_seconds()
        if lineage.HasField("gap_tolerance")
        else None,
        "lineage": json_format.MessageToDict(lineage, preserving_proto_field_name=True),
    }


def _future_calendar_names(spec: tr.DatasetSpec) -> list[str]:
    from tsforge.forecasting.protos import future_calendar_spec
    from tsforge.forecasting.windowing import future_calendar_names

    return list(future_calendar_names(future_calendar_spec(spec)))


README = """\
# {registered_model}

A forecasting model registered in tsforge from {source_model} ({model_type}).

- `{model_file}`: the model ({loader_text})
- `scalers.json`: the min-max scalers fitted on the training split
- `manifest.json`: window, features, lags, calendar settings, scalers, prediction
  intervals and lineage

## Using it

Input windows X have shape (n, {input_steps}, {n_inputs}): the columns are
`manifest["input_feature_names"]`, the input features resampled onto the window points
of each reference time, then the calendar columns (sin/cos, unscaled). The future
window F has shape (n, {output_steps}, {n_future}) (`manifest["future_feature_names"]`):
each lag feature (`manifest["lags"]`: its source series `lag_hours` before each output
step), then calendar columns at the output steps. Scale each input feature column j
with `scalers["inputs"][j]` and each lag column j with `scalers["lags"][j]`, predict,
and unscale the output columns with `scalers["outputs"]`:

```python
import json, numpy as np
m = json.load(open("manifest.json"))
def scale(s):   # (multiplier, anchor): scaled = (x - data_min) * multiplier + anchor
    span = s["data_max"] - s["data_min"]
    mult = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
    return mult, (s["range_min"] if span > 0 else (s["range_min"] + s["range_max"]) / 2)
for j, s in enumerate(m["scalers"]["inputs"]):
    mult, anchor = scale(s); X[..., j] = (X[..., j] - s["data_min"]) * mult + anchor
for j, s in enumerate(m["scalers"].get("lags", [])):
    mult, anchor = scale(s); F[..., j] = (F[..., j] - s["data_min"]) * mult + anchor
{load_code}
for j, s in enumerate(m["scalers"]["outputs"]):
    mult, anchor = scale(s); y[..., j] = (y[..., j] - anchor) / mult + s["data_min"]
```

Prediction intervals: `manifest["intervals"]["half_widths"][level][step][feature]`
(original units) around y, at the nominal coverage `manifest["intervals"]["levels"]`
(split conformal on the validation split).
"""
_LOAD_CODE = {
    "keras": (
        'import keras\nmodel = keras.saving.load_model("{file}", compile=False)\n'
        "inputs = [X.astype(np.float32), F.astype(np.float32)] if F.shape[2] else X.astype(np.float32)\n"
        "y = np.asarray(model.predict(inputs, verbose=0))",
        "Keras 3, `.keras`; with a future window its inputs are [X, F]",
    ),
    "sklearn-flattened": (
        'import joblib\nestimator = joblib.load("{file}")\n'
        "rows = np.hstack([X.reshape(len(X), -1), F.reshape(len(F), -1)]).astype(np.float64)\n"
        'y = estimator.predict(rows).reshape(len(X), *m["model"]["output_shape"])',
        "a scikit-learn estimator on the windows X then F, each flattened row-major",
    ),
    "sklearn-step-indexed": (
        'import joblib\nestimators = joblib.load("{file}")  # one scikit-learn SVR per output feature\n'
        "steps = F.shape[1]\n"
        "flat = np.hstack([X.reshape(len(X), -1), F.reshape(len(F), -1)]).astype(np.float64)\n"
        "rows = np.column_stack([np.repeat(flat, steps, axis=0), np.tile(np.arange(steps, dtype=float), len(X))])\n"
        "y = np.stack([e.predict(rows).reshape(len(X), steps) for e in estimators], axis=2)",
        "scikit-learn SVRs, one per output feature, on the flattened windows with the step index appended",
    ),
    "lightgbm": (
        "import lightgbm\n"
        'boosters = [lightgbm.Booster(model_file=f) for f in m["model"]["files"]]\n'
        'steps, outputs = m["model"]["output_shape"]\n'
        'c = m["model"]["n_calendar"]  # X\'s calendar columns, read at the last input step only\n'
        "def rows(k, with_step):  # X's feature columns flattened, its calendar at the last step, F's row k\n"
        "    parts = [X[:, :, : X.shape[2] - c].reshape(len(X), -1), X[:, -1, X.shape[2] - c :], F[:, k, :]]\n"
        "    parts += [np.full((len(X), 1), k)] if with_step else []\n"
        "    return np.hstack(parts).astype(np.float64)\n"
        "y = np.zeros((len(X), steps, outputs))\n"
        'if m["model"]["strategy"] == "direct":  # booster k * outputs + j: feature j at step k\n'
        "    for k in range(steps):\n"
        "        for j in range(outputs):\n"
        "            y[:, k, j] = boosters[k * outputs + j].predict(rows(k, False))\n"
        "else:  # booster j: feature j at every step, rows sample-major\n"
        "    r = np.stack([rows(k, True) for k in range(steps)], axis=1).reshape(len(X) * steps, -1)\n"
        "    for j in range(outputs):\n"
        "        y[:, :, j] = boosters[j].predict(r).reshape(len(X), steps)",
        "LightGBM text models, one per output feature and step (direct) or per output feature",
    ),
    "statsforecast": (
        "import joblib  # needs statsforecast installed (its model objects)\n"
        'model = joblib.load("{file}")\n'
        "# For each reference time r and output feature j: h = the output feature's scaled\n"
        "# values on its step grid up to r (model['history_steps'] of them; for AutoETS\n"
        "# starting a whole number of seasons after model['fit_starts_ns'][j]); for MSTL\n"
        "# subtract the seasonal cycles (model['seasonal_cycles'][j], each one period\n"
        "# ending at model['fit_end_ns'] and repeating), then\n"
        "# f = model['models'][j].forward(y=h, h=model['lead'] + steps)['mean'][model['lead']:]\n"
        "# (and add the cycles back at the forecast times).\n"
        "y = ...",
        "statsforecast models fitted on the output series, one per output feature (joblib)",
    ),
    "ensemble": (
        "# Each member in m['model']['members'] is used as its own loader says (files under\n"
        "# members/ID/); y is the sum over members of weights[j] * member's scaled y[..., j].\n"
        "y = ...",
        "an ensemble: its members' files and weights",
    ),
}


def bundle_zip(
    registered_model: str, lineage: mr.ModelLineage, artifact: bytes, artifact_format: int, scalers_json: bytes
) -> bytes:
    """The BUNDLE zip of a version."""
    from tsforge.forecasting.estimators.bundles import model_files

    files = model_files(ARTIFACT_FORMAT_NAMES[artifact_format], artifact)
    document = manifest(registered_model, lineage, files, json.loads(scalers_json))
    code, loader_text = _LOAD_CODE[files.loader]
    spec = lineage.dataset_spec
    window = spec.window
    readme = README.format(
        registered_model=registered_model,
        source_model=lineage.model,
        model_type=common_pb2.ModelType.Name(lineage.model_type),
        model_file=files.details["file"],
        loader_text=loader_text,
        input_steps=window.input_steps,
        n_inputs=len(lineage.input_feature_names),
        output_steps=window.output_steps,
        n_future=document["model"]["future_shape"][1],
        load_code=code.replace("{file}", files.details["file"]),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.files.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        archive.writestr("scalers.json", scalers_json, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("manifest.json", json.dumps(document, indent=2), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("README.md", readme, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
