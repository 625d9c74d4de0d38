"""What a version is made of: its lineage, and the BUNDLE zip (model, scalers, manifest,
README) that lets anyone load and use it with numpy and the model's own library alone
(Keras, scikit-learn, LightGBM or statsforecast): no file in it unpickles into a tsforge
class."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
from google.protobuf import json_format

from services.models.bundle_readme import readme
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
ARTIFACT_FORMAT_NAMES: dict[int, str] = {
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
_NS_PER_MINUTE = 60 * 10**9


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
        "layout": layout(lineage, files),
        "lineage": json_format.MessageToDict(lineage, preserving_proto_field_name=True),
    }


def _future_calendar_names(spec: tr.DatasetSpec) -> list[str]:
    from tsforge.forecasting.protos import future_calendar_spec
    from tsforge.forecasting.windowing import future_calendar_names

    return list(future_calendar_names(future_calendar_spec(spec)))


HOLIDAY_YEARS = (1970, 2099)
_PREDICT_PY = Path(__file__).with_name("bundle_predict.py")


def layout(lineage: mr.ModelLineage, files) -> dict:
    """The manifest's "layout": every window point and calendar column as exact numbers
    (int64 ns offsets from the reference time), as tsforge.forecasting.prediction cuts
    them, and whether the bundle's predict.py can run the model (see bundle_predict.py)."""
    from tsforge.forecasting.calendar import holiday_dates_by_year
    from tsforge.forecasting.protos import calendar_spec, feature_spec, lag_window_spec
    from tsforge.forecasting.windowing import window_edges

    spec = lineage.dataset_spec
    window = spec.window

    def edges(feature_spec_, steps):
        return [int(e) for e in window_edges(feature_spec_, steps)]

    def calendar(settings: tr.CalendarFeatures, points: list[int]) -> dict:
        library = calendar_spec(settings)
        dates = {}
        if library.holiday:
            by_year = holiday_dates_by_year(library, *HOLIDAY_YEARS)
            dates = {str(year): days for year, days in by_year.items()}
        return {
            "columns": list(library.column_names()),
            "cycles": [cycle for cycle in ("year", "month", "week", "day") if getattr(library, cycle)],
            "holiday": library.holiday,
            "holiday_country": library.holiday_country,
            "holiday_subdivision": library.holiday_subdivision,
            "time_zone": library.time_zone,
            "points_ns": points,
            "holiday_dates": dates,
        }

    inputs = [
        {"feature": f.feature, "source": f.feature, "method": _RESAMPLING[f.resampling],
         "edges_ns": edges(feature_spec(f), window.input_steps)}
        for f in spec.inputs
    ]  # fmt: skip
    lags = []
    for lag in spec.lags:
        lag_spec = lag_window_spec(spec, lag)
        lags.append({"feature": lag.feature, "source": lag_source_name(spec, lag), "method": lag_spec.method.value,
                     "edges_ns": edges(lag_spec, window.output_steps)})  # fmt: skip
    outputs = [{"feature": f.feature, "edges_ns": edges(feature_spec(f), window.output_steps)} for f in spec.outputs]
    reason = unsupported_reason(lineage.model_type, files)
    gap = lineage.gap_tolerance.ToTimedelta() if lineage.HasField("gap_tolerance") else None
    return {
        "supported": reason is None,
        "unsupported_reason": reason,
        "step_ns": window.step_minutes * _NS_PER_MINUTE,
        "offset_ns": window.offset_minutes * _NS_PER_MINUTE,
        "gap_tolerance_ns": None if gap is None else gap // timedelta(microseconds=1) * 1000,
        "inputs": inputs,
        "lags": lags,
        "outputs": outputs,
        "calendar": calendar(spec.calendar, inputs[0]["edges_ns"][1:]),
        "future_calendar": calendar(spec.future_calendar, outputs[0]["edges_ns"][1:]),
    }


def unsupported_reason(model_type: int, files) -> str | None:
    """Why the bundle's predict.py cannot run this model (None when it can): a
    statistical model (statsforecast's own objects forecast from the outputs' history),
    an ensemble with one among its members, or the autoregressive LSTM (a Keras model
    subclass whose class is tsforge's)."""
    kinds = [(common_pb2.ModelType.Name(model_type), files.loader)]
    kinds += [(m["type"], m["loader"]) for m in files.details.get("members", ())]
    for kind, loader in kinds:
        if loader == "statsforecast":
            return (
                f"{kind} is a statistical model (statsforecast), which forecasts from the outputs' own history "
                "with statsforecast's objects: use the platform's Predict (README.md, 'Statistical models')"
            )
        if kind == "MODEL_TYPE_AR_LSTM":
            return (
                "MODEL_TYPE_AR_LSTM is a subclassed Keras model whose class is tsforge's "
                "(tsforge.forecasting.estimators.keras_models.AutoregressiveLstm): use the platform's Predict"
            )
    return None


def bundle_zip(
    registered_model: str, lineage: mr.ModelLineage, artifact: bytes, artifact_format: int, scalers_json: bytes
) -> bytes:
    """The BUNDLE zip of a version."""
    from tsforge.forecasting.estimators.bundles import model_files

    files = model_files(ARTIFACT_FORMAT_NAMES[artifact_format], artifact)
    document = manifest(registered_model, lineage, files, json.loads(scalers_json))
    text = readme(registered_model, lineage, document, files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.files.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        archive.writestr("scalers.json", scalers_json, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("manifest.json", json.dumps(document, indent=2), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("README.md", text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("predict.py", _PREDICT_PY.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
