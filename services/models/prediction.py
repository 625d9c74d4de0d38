"""Predict with a registered version: the caller's series (uploaded files or inline)
checked against the version's required series (inputs, lag sources, and the outputs'
own past for statistical models), then tsforge.forecasting.prediction, the same code
that cut the training dataset, around the cached model, and the version's prediction
intervals around its forecasts.

TensorFlow, LightGBM and statsforecast are imported only when a model that needs one is
first loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from services.models.artifacts import VersionObjects
from services.models.bundle import ARTIFACT_FORMAT_NAMES, version_required_series
from services.models.domain import ModelVersion
from services.models.model_cache import ModelCache
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from tsforge.forecasting.estimators.trainer import needs_history
from tsforge.forecasting.intervals import ConformalIntervals
from tsforge.forecasting.prediction import Forecasts, forecasts_from, output_history_at, prediction_inputs
from tsforge.forecasting.protos import scalers_from_protos
from tsforge.forecasting.windowing import Series, UncoveredWindow
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
        required = version_required_series(lineage)
        series = self._series(tenant, spec, required, inputs)
        gap = lineage.gap_tolerance.ToTimedelta() if lineage.HasField("gap_tolerance") else None
        scalers = scalers_from_protos(lineage.scalers)
        try:
            model_inputs = prediction_inputs(spec, scalers, series, references, gap)
        except UncoveredWindow as error:
            raise FailedPrecondition(str(error), error.feature, "COVERAGE") from None
        except ValueError as error:
            raise InvalidArgument(FieldViolation("inputs", str(error))) from None
        model = self._cache.get(version.storage_prefix, lambda: self._load(version))
        if needs_history(model.predictor):
            try:
                history = output_history_at(spec, scalers, series, model_inputs.references, gap)
            except ValueError as error:
                raise InvalidArgument(FieldViolation("inputs", f"the outputs' history: {error}")) from None
            model_inputs = replace(model_inputs, history=history)
        intervals = None
        if lineage.intervals.levels:
            window = spec.window
            intervals = ConformalIntervals.from_flat(
                lineage.intervals.levels, lineage.intervals.half_widths, window.output_steps, len(spec.outputs)
            )
        scaled = model.predict(*model_inputs.model_arguments())
        return forecasts_from(spec, scalers, model_inputs.references, scaled, intervals)

    def _load(self, version: ModelVersion):
        from tsforge.forecasting.estimators.trainer import load_model

        artifact = self._objects.read_artifact(version)
        return load_model(artifact, ARTIFACT_FORMAT_NAMES[version.artifact_format]), len(artifact)

    def _series(self, tenant: str, spec: tr.DatasetSpec, known: list[str], inputs) -> dict[str, Series]:
        given = {item.feature: item for item in inputs}
        violations = [
            FieldViolation("inputs", f"{name!r} is not a series this version uses (it needs {', '.join(known)})")
            for name in given
            if name not in known
        ]
        violations += [FieldViolation("inputs", f"series {name!r} is missing") for name in known if name not in given]
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
        series = {}
        for name in known:
            item = given[name]
            if isinstance(item, InlineInput):
                series[name] = Series(item.times, item.values)
                continue
            try:
                series[name] = self._uploads.read_series(tenant, item.file, item.column or _column(spec, name))
            except ValueError as error:  # the column cannot be read as the file's profile says
                raise InvalidArgument(FieldViolation("files", f"{item.file}: {error}")) from None
        return series


def _column(spec: tr.DatasetSpec, name: str) -> str:
    """The column training read for a required series."""
    for feature in (*spec.inputs, *spec.outputs, *spec.lags):
        if feature.feature == name:
            return feature.column
    return ""
