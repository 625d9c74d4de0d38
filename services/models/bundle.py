"""What a version is made of: its lineage, and the BUNDLE zip (model, scalers, manifest,
README) that lets anyone load and use it with Keras or scikit-learn and numpy alone."""

from __future__ import annotations

import io
import json
import zipfile

from google.protobuf import json_format

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.protos import scalers_from_protos
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.training.v1 import training_resources_pb2 as tr

MANIFEST_VERSION = 1
KERAS_TYPES = frozenset(
    {common_pb2.MODEL_TYPE_DENSE, common_pb2.MODEL_TYPE_CNN, common_pb2.MODEL_TYPE_LSTM, common_pb2.MODEL_TYPE_AR_LSTM}
)
_RESAMPLING = {
    common_pb2.RESAMPLING_METHOD_UNSPECIFIED: "linear",
    common_pb2.RESAMPLING_METHOD_LINEAR: "linear",
    common_pb2.RESAMPLING_METHOD_MEAN: "mean",
    common_pb2.RESAMPLING_METHOD_NEAREST: "nearest",
}


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
    return lineage


def scalers_json(lineage: mr.ModelLineage) -> bytes:
    """The bundle's scalers.json: the same document the dataset build stores."""
    return json.dumps(scalers_from_protos(lineage.scalers).to_dict()).encode()


def formats_for(model_type: int) -> tuple[int, ...]:
    """Download formats a model type offers. The autoregressive LSTM is a subclassed
    Keras model, which the legacy HDF5 format cannot hold."""
    if model_type not in KERAS_TYPES:
        return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_JOBLIB)
    if model_type == common_pb2.MODEL_TYPE_AR_LSTM:
        return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_KERAS)
    return (common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_KERAS, common_pb2.ARTIFACT_FORMAT_H5)


def bundle_model_file(model_type: int, artifact: bytes) -> tuple[str, str, bytes]:
    """(file name, loader, bytes) of the model inside a bundle.

    A linear regression is stored as the bare scikit-learn estimator on flattened
    windows, loadable without tsforge; the SVR wrappers are tsforge classes and stay
    the tsforge joblib artifact.
    """
    if model_type in KERAS_TYPES:
        return "model.keras", "keras", artifact
    from tsforge.forecasting.estimators import sklearn_models

    estimator = sklearn_models.from_bytes(artifact).estimator
    if type(estimator).__module__.startswith("sklearn."):
        import joblib

        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        return "model.joblib", "sklearn-flattened", buffer.getvalue()
    return "model.joblib", "tsforge-joblib", artifact


def manifest(registered_model: str, lineage: mr.ModelLineage, model_file: str, loader: str, scalers: dict) -> dict:
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
            "file": model_file,
            "loader": loader,
            "type": common_pb2.ModelType.Name(lineage.model_type),
            "input_shape": [window.input_steps, len(lineage.input_feature_names)],
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
        "calendar": json_format.MessageToDict(spec.calendar, preserving_proto_field_name=True),
        "input_feature_names": list(lineage.input_feature_names),
        "output_feature_names": list(lineage.output_feature_names),
        "scalers": scalers,
        "gap_tolerance_seconds": lineage.gap_tolerance.ToTimedelta().total_seconds()
        if lineage.HasField("gap_tolerance")
        else None,
        "lineage": json_format.MessageToDict(lineage, preserving_proto_field_name=True),
    }


README = """\
# {registered_model}

A forecasting model registered in tsforge from {source_model} ({model_type}).

- `{model_file}`: the model ({loader_text})
- `scalers.json`: the min-max scalers fitted on the training split
- `manifest.json`: window, features, calendar settings, scalers and lineage

## Using it

Input windows X have shape (n, {input_steps}, {n_inputs}): the columns are
`manifest["input_feature_names"]`, the input features resampled onto the window points
of each reference time, then the calendar columns (sin/cos, unscaled). Scale each
input feature column j with `scalers["inputs"][j]`, predict, and unscale the output
columns with `scalers["outputs"]`:

```python
import json, numpy as np
m = json.load(open("manifest.json"))
def scale(s):   # (multiplier, anchor): scaled = (x - data_min) * multiplier + anchor
    span = s["data_max"] - s["data_min"]
    mult = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
    return mult, (s["range_min"] if span > 0 else (s["range_min"] + s["range_max"]) / 2)
for j, s in enumerate(m["scalers"]["inputs"]):
    mult, anchor = scale(s); X[..., j] = (X[..., j] - s["data_min"]) * mult + anchor
{load_code}
for j, s in enumerate(m["scalers"]["outputs"]):
    mult, anchor = scale(s); y[..., j] = (y[..., j] - anchor) / mult + s["data_min"]
```
"""
_LOAD_CODE = {
    "keras": (
        'import keras\nmodel = keras.saving.load_model("model.keras", compile=False)\n'
        "y = np.asarray(model.predict(X.astype(np.float32), verbose=0))",
        "Keras 3, `.keras`",
    ),
    "sklearn-flattened": (
        'import joblib\nestimator = joblib.load("model.joblib")\n'
        "y = estimator.predict(X.reshape(len(X), -1).astype(np.float64))"
        '.reshape(len(X), *m["model"]["output_shape"])',
        "a scikit-learn estimator on windows flattened to (n, steps * features)",
    ),
    "tsforge-joblib": (
        "import joblib  # needs tsforge installed: the SVR wrappers are its classes\n"
        'y = joblib.load("model.joblib").predict(X)',
        "a tsforge scikit-learn WindowRegressor",
    ),
}


def bundle_zip(registered_model: str, lineage: mr.ModelLineage, artifact: bytes, scalers_json: bytes) -> bytes:
    """The BUNDLE zip of a version."""
    model_file, loader, model_bytes = bundle_model_file(lineage.model_type, artifact)
    document = manifest(registered_model, lineage, model_file, loader, json.loads(scalers_json))
    code, loader_text = _LOAD_CODE[loader]
    window = lineage.dataset_spec.window
    readme = README.format(
        registered_model=registered_model,
        source_model=lineage.model,
        model_type=common_pb2.ModelType.Name(lineage.model_type),
        model_file=model_file,
        loader_text=loader_text,
        input_steps=window.input_steps,
        n_inputs=len(lineage.input_feature_names),
        load_code=code,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(model_file, model_bytes, compress_type=zipfile.ZIP_STORED)
        archive.writestr("scalers.json", scalers_json, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("manifest.json", json.dumps(document, indent=2), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("README.md", readme, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
