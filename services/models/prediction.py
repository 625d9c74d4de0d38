"""Predict with a registered version: the caller's inputs (uploaded files or inline
series) checked against the version's features, then tsforge.forecasting.prediction,
the same code that cut the training dataset, around the cached model.

TensorFlow is imported only when a Keras model is first loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.models.artifacts import VersionObjects
from services.models.domain import ModelVersion
from services.models.model_cache import ModelCache
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from tsforge.forecasting.prediction import Forecasts, forecasts_from, prediction_inputs
from tsforge.forecasting.protos import feature_spec, scalers_from_protos
from tsforge.forecasting.windowing import Feature, Series, UncoveredWindow
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
        if references is not None and len(references) > MAX_REFERENCE_TIMES:
            raise InvalidArgument(FieldViolation("reference_times", f"at most {MAX_REFERENCE_TIMES} per call"))
        features = self._features(tenant, spec, inputs)
        gap = lineage.gap_tolerance.ToTimedelta() if lineage.HasField("gap_tolerance") else None
        scalers = scalers_from_protos(lineage.scalers)
        try:
            references, x = prediction_inputs(spec, scalers, features, references, gap)
        except UncoveredWindow as error:
            raise FailedPrecondition(str(error), error.feature, "COVERAGE") from None
        except ValueError as error:
            raise InvalidArgument(FieldViolation("inputs", str(error))) from None
        model = self._cache.get(version.storage_prefix, lambda: self._load(version))
        return forecasts_from(spec, scalers, references, model.predict(x))

    def _load(self, version: ModelVersion):
        from tsforge.forecasting.estimators.trainer import load_model

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
            try:
                series = self._uploads.read_series(tenant, item.file, item.column or trained.column)
            except ValueError as error:  # the column cannot be read as the file's profile says
                raise InvalidArgument(FieldViolation("files", f"{item.file}: {error}")) from None
            features.append(Feature(feature_spec(trained), series))
        return features
