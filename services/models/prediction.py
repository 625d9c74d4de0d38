"""Forecasts from a registered version on new data, with the very code that built the
training dataset: the same feature and calendar specs (services.training.build), the
same resampling (windowing.input_windows) and the same scalers.

TensorFlow is imported only when a Keras model is first loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.models.artifacts import VersionObjects
from services.models.bundle import scalers_of
from services.models.domain import ModelVersion
from services.models.model_cache import ModelCache
from services.training.build import calendar_spec, feature_spec, read_feature
from services.training.windowing import Feature, Series, UncoveredWindow, WindowSpec, input_windows, window_edges
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.training.v1 import training_resources_pb2 as tr

MAX_REFERENCE_TIMES = 10_000
MAX_INLINE_POINTS = 1_000_000
_NS_PER_MINUTE = 60 * 10**9


@dataclass(frozen=True)
class FileInput:
    feature: str
    file: str
    column: str = ""


@dataclass(frozen=True)
class InlineInput:
    feature: str
    times: np.ndarray  # datetime64[ns], UTC
    values: np.ndarray  # float64


@dataclass(frozen=True)
class Forecasts:
    """values[i, k, j]: output feature j at step k + 1 from reference_times[i] (int64 ns),
    for the instant reference_times[i] + offsets[j, k]; original units."""

    reference_times: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    output_names: tuple[str, ...]


class Forecaster:
    def __init__(self, objects: VersionObjects, uploads, cache: ModelCache):
        self._objects = objects
        self._uploads = uploads
        self._cache = cache

    def predict(
        self,
        tenant: str,
        version: ModelVersion,
        inputs: Sequence[FileInput] | Sequence[InlineInput],
        references: np.ndarray | None,
    ) -> Forecasts:
        """Raises InvalidArgument (inputs that do not match the version's features, too
        many reference times), NotFound (a file), FailedPrecondition (inputs that do not
        cover a reference time's window, naming the feature and the range)."""
        lineage = mr.ModelLineage.FromString(version.lineage)
        spec = lineage.dataset_spec
        window = WindowSpec(
            spec.window.input_steps, spec.window.output_steps, spec.window.step_minutes, spec.window.offset_minutes
        )
        if references is not None and len(references) > MAX_REFERENCE_TIMES:
            raise InvalidArgument(FieldViolation("reference_times", f"at most {MAX_REFERENCE_TIMES} per call"))
        features = self._features(tenant, spec, inputs)
        gap = lineage.gap_tolerance.ToTimedelta() if lineage.HasField("gap_tolerance") else None
        if references is None or len(references) == 0:
            references = np.array([_latest_reference(features, window)], dtype=np.int64)
        try:
            X = input_windows(features, window, references, gap, calendar_spec(spec.calendar))
        except UncoveredWindow as error:
            raise FailedPrecondition(str(error), error.feature, "COVERAGE") from None
        except ValueError as error:
            raise InvalidArgument(FieldViolation("inputs", str(error))) from None
        scalers = scalers_of(lineage)
        scalers.transform_inputs(X, copy=False)
        model = self._cache.get(version.storage_prefix, lambda: self._load(version))
        y = scalers.inverse_transform_outputs(model.predict(X), copy=False)
        offsets = np.stack([window_edges(feature_spec(o), window.output_steps)[1:] for o in spec.outputs])
        return Forecasts(np.asarray(references, dtype=np.int64), y, offsets, tuple(o.feature for o in spec.outputs))

    def _load(self, version: ModelVersion):
        from services.training.models.trainer import load_model

        artifact = self._objects.read_artifact(version)
        format = "keras" if version.artifact_format == common_pb2.ARTIFACT_FORMAT_KERAS else "joblib"
        return load_model(artifact, format), len(artifact)

    def _features(self, tenant: str, spec: tr.DatasetSpec, inputs) -> list[Feature]:
        given = {item.feature: item for item in inputs}
        known = [f.feature for f in spec.inputs]
        violations = [
            FieldViolation("inputs", f"{name!r} is not an input feature of this version (it has {', '.join(known)})")
            for name in given
            if name not in known
        ]
        violations += [
            FieldViolation("inputs", f"input feature {name!r} is missing") for name in known if name not in given
        ]
        if len(given) != len(inputs):
            violations.append(FieldViolation("inputs", "a feature is given more than once"))
        inline = [item for item in inputs if isinstance(item, InlineInput)]
        if sum(len(item.times) for item in inline) > MAX_INLINE_POINTS:
            violations.append(FieldViolation("series", f"at most {MAX_INLINE_POINTS} points in all"))
        for item in inline:
            if len(item.times) != len(item.values):
                violations.append(
                    FieldViolation("series", f"{item.feature!r}: {len(item.times)} times but {len(item.values)} values")
                )
        if violations:
            raise InvalidArgument(violations)
        features = []
        for trained in spec.inputs:
            item = given[trained.feature]
            if isinstance(item, InlineInput):
                features.append(Feature(feature_spec(trained), Series(item.times, item.values)))
                continue
            source = tr.FeatureSpec()
            source.CopyFrom(trained)
            source.file, source.column = item.file, item.column or trained.column
            try:
                features.append(read_feature(self._uploads, tenant, source))
            except ValueError as error:
                if "no longer exists" in str(error):
                    raise NotFound(item.file) from None
                raise InvalidArgument(FieldViolation("files", f"{item.file}: {error}")) from None
        return features


def _latest_reference(features: Sequence[Feature], window: WindowSpec) -> int:
    """The latest reference time on the window's grid whose input windows end within
    every input's data."""
    latest = None
    for feature in features:
        values = np.asarray(feature.series.values, dtype=np.float64)
        times = np.asarray(feature.series.times)[np.isfinite(values)].astype("datetime64[ns]").view(np.int64)
        if len(times) == 0:
            raise InvalidArgument(FieldViolation("inputs", f"input feature {feature.spec.name!r} has no values"))
        end = int(times.max()) - int(window_edges(feature.spec, window.input_steps)[-1])
        latest = end if latest is None else min(latest, end)
    step, offset = window.step_minutes * _NS_PER_MINUTE, window.offset_minutes * _NS_PER_MINUTE
    return latest - (latest - offset) % step
