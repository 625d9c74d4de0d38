"""RenderPlot: validate the request, serve the cached PNG or gather the data and draw it.

A plot is rendered once per (evaluation, normalized request, charts.VERSION) and kept
in the object store under plots/{evaluation}/; the evaluation's tables never change, and
neither do the run's predictions, history or the dataset's violins, so the cache goes
stale only when the charts change, and their VERSION with them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from services.evaluation import charts
from services.evaluation.charts import LossHistory, PlotSize
from services.evaluation.compute import EVALUATED_SPLITS
from services.evaluation.evaluations import Evaluations
from services.evaluation.predictions import SplitPredictions, TrainingSource, read_split
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from tsforge.core.storage import ObjectNotFound, ObjectStore
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)

PLOTS_PREFIX = "plots/"
PIXELS = (100, 4000)
DPI = (50, 600)
NEEDS_FEATURE = (pb.PLOT_KIND_PREDICTION_VS_ACTUAL, pb.PLOT_KIND_RESIDUAL_HISTOGRAM, pb.PLOT_KIND_ERROR_PER_STEP)


class Plots:
    def __init__(self, evaluations: Evaluations, training: TrainingSource, store: ObjectStore):
        self._evaluations = evaluations
        self._training = training
        self._store = store

    def render(self, tenant: str, request: pb.RenderPlotRequest) -> tuple[str, bytes]:
        """(content type, PNG bytes) of the plot the request describes.

        Raises InvalidArgument (every bad field at once), NotFound, FailedPrecondition
        (the evaluation is not READY; LOSS_CURVES of models without history), Unavailable.
        """
        normalized, evaluation = self._normalize(tenant, request)
        evaluation_id = evaluation.name.split("/")[1]
        digest = hashlib.sha256(
            b"charts-%d:" % charts.VERSION + normalized.SerializeToString(deterministic=True)
        ).hexdigest()[:32]
        kind = pb.PlotKind.Name(normalized.kind).removeprefix("PLOT_KIND_").lower()
        key = f"{PLOTS_PREFIX}{evaluation_id}/{kind}-{digest}.png"
        try:
            return charts.CONTENT_TYPE, b"".join(self._store.read(key))
        except ObjectNotFound:
            pass
        data = self._draw(tenant, evaluation, normalized)
        self._store.put(key, [data])
        return charts.CONTENT_TYPE, data

    def _normalize(self, tenant: str, request: pb.RenderPlotRequest) -> tuple[pb.RenderPlotRequest, er.Evaluation]:
        """The request with every default filled in; the evaluation, READY."""
        violations: list[FieldViolation] = []
        evaluation = None
        try:
            evaluation = self._evaluations.get(tenant, request.name)
        except InvalidArgument as error:
            violations += error.violations
        normalized = pb.RenderPlotRequest()
        normalized.CopyFrom(request)
        if request.kind not in pb.PlotKind.values() or request.kind == pb.PLOT_KIND_UNSPECIFIED:
            violations.append(
                FieldViolation(
                    "kind",
                    "is required: PREDICTION_VS_ACTUAL, RESIDUAL_HISTOGRAM, "
                    "ERROR_PER_STEP, LOSS_CURVES or DATASET_VIOLINS",
                )
            )
        if request.kind in NEEDS_FEATURE and not request.feature:
            violations.append(FieldViolation("feature", "is required for this kind of plot"))
        if evaluation is not None:
            if request.feature and request.kind in NEEDS_FEATURE and request.feature not in evaluation.features:
                violations.append(
                    FieldViolation(
                        "feature",
                        f"{request.feature!r} is not an output feature here ({', '.join(evaluation.features)})",
                    )
                )
            unknown = [m for m in request.models if m not in evaluation.models]
            if unknown:
                violations.append(FieldViolation("models", f"not evaluated here: {', '.join(unknown)}"))
        if request.forecast_step < 0:
            violations.append(FieldViolation("forecast_step", "must be 1 or more (0: 1)"))
        normalized.forecast_step = request.forecast_step or 1
        if (
            request.HasField("start_time")
            and request.HasField("end_time")
            and request.start_time.ToNanoseconds() > request.end_time.ToNanoseconds()
        ):
            violations.append(FieldViolation("end_time", "must not be before start_time"))
        normalized.split = request.split or common_pb2.DATA_SPLIT_TEST
        if normalized.split not in EVALUATED_SPLITS:
            violations.append(FieldViolation("split", "must be TEST or VALIDATION (unspecified: TEST)"))
        normalized.metric = request.metric or er.METRIC_RMSE
        if normalized.metric not in er.Metric.values():
            violations.append(FieldViolation("metric", "is not a metric"))
        normalized.units = request.units or er.VALUE_UNITS_ORIGINAL
        if normalized.units not in er.ValueUnits.values():
            violations.append(FieldViolation("units", "must be ORIGINAL or SCALED"))
        for field, default, (low, high) in (("width_px", 1000, PIXELS), ("height_px", 600, PIXELS), ("dpi", 100, DPI)):
            value = getattr(request, field) or default
            if not low <= value <= high:
                violations.append(FieldViolation(field, f"must be between {low} and {high} (0: {default})"))
            setattr(normalized, field, value)
        if violations:
            raise InvalidArgument(violations)
        assert evaluation is not None  # or get() added a violation
        if evaluation.state != er.EVALUATION_STATE_READY:
            raise FailedPrecondition(
                f"{evaluation.name} is {er.EvaluationState.Name(evaluation.state)}, not READY", evaluation.name
            )
        if not normalized.models:
            normalized.models.extend(evaluation.models)
        # Only what the kind uses is part of the cache key.
        if normalized.kind != pb.PLOT_KIND_PREDICTION_VS_ACTUAL:
            for field in ("forecast_step", "start_time", "end_time"):
                normalized.ClearField(field)
        if normalized.kind != pb.PLOT_KIND_ERROR_PER_STEP:
            normalized.ClearField("metric")
        if normalized.kind in (pb.PLOT_KIND_LOSS_CURVES, pb.PLOT_KIND_DATASET_VIOLINS):
            for field in ("split", "units"):
                normalized.ClearField(field)
        if normalized.kind == pb.PLOT_KIND_DATASET_VIOLINS:
            normalized.ClearField("models")
        return normalized, evaluation

    def _draw(self, tenant: str, evaluation: er.Evaluation, request: pb.RenderPlotRequest) -> bytes:
        return charts.to_png(self._figure(tenant, evaluation, request))

    def _figure(self, tenant: str, evaluation: er.Evaluation, request: pb.RenderPlotRequest) -> Figure:
        size = PlotSize(request.width_px, request.height_px, request.dpi)
        kind = request.kind
        if kind == pb.PLOT_KIND_ERROR_PER_STEP:
            return self._error_per_step(evaluation, request, size)
        if kind == pb.PLOT_KIND_LOSS_CURVES:
            return self._loss_curves(tenant, evaluation, request.models, size)
        if kind == pb.PLOT_KIND_DATASET_VIOLINS:
            return self._violins(tenant, evaluation, request.feature, size)
        rows = [read_split(self._training, tenant, model, request.split) for model in request.models]
        if kind == pb.PLOT_KIND_PREDICTION_VS_ACTUAL:
            return self._prediction_vs_actual(request, rows, size)
        return self._residuals(request, rows, size)

    def _prediction_vs_actual(
        self, request: pb.RenderPlotRequest, rows: Sequence[SplitPredictions], size: PlotSize
    ) -> Figure:
        first = rows[0]
        f = first.feature_names.index(request.feature)
        steps = first.actual.shape[1]
        if request.forecast_step > steps:
            raise InvalidArgument(FieldViolation("forecast_step", f"must be between 1 and {steps}"))
        k = request.forecast_step
        feature = first.features[f]
        offset_seconds = round((feature.horizon_start_minutes + k * feature.step_minutes) * 60)
        target = first.reference_times + offset_seconds
        keep = np.ones(len(target), dtype=bool)
        if request.HasField("start_time"):
            keep &= target >= request.start_time.seconds
        if request.HasField("end_time"):
            keep &= target <= request.end_time.seconds
        scaled = request.units == er.VALUE_UNITS_SCALED
        actual = (first.actual_scaled if scaled else first.actual)[keep, k - 1, f]
        forecasts = {
            _short(model): (r.predicted_scaled if scaled else r.predicted)[keep, k - 1, f]
            for model, r in zip(request.models, rows)
        }
        bands = {}
        for model, r in zip(request.models, rows):
            bounds = r.bounds(scaled)
            if bounds is not None:
                lower, upper = bounds
                bands[_short(model)] = [
                    charts.Band(level, lower[keep, index, k - 1, f], upper[keep, index, k - 1, f])
                    for index, level in enumerate(r.interval_levels)
                ]
        times = target[keep].astype("datetime64[s]")
        return charts.prediction_vs_actual(
            times,
            actual,
            forecasts,
            bands=bands,
            size=size,
            ylabel=_units_label(request.units, request.feature),
            title=f"{request.feature}: forecast step {k} ({_minutes(k * feature.step_minutes)} ahead), "
            f"{_split_name(request.split)} split",
        )

    def _residuals(self, request: pb.RenderPlotRequest, rows: Sequence[SplitPredictions], size: PlotSize) -> Figure:
        scaled = request.units == er.VALUE_UNITS_SCALED
        f = rows[0].feature_names.index(request.feature)
        residuals = {}
        for model, r in zip(request.models, rows):
            actual, predicted = (r.actual_scaled, r.predicted_scaled) if scaled else (r.actual, r.predicted)
            residuals[_short(model)] = (actual[..., f] - predicted[..., f]).ravel()
        return charts.residual_histogram(
            residuals,
            size=size,
            xlabel=f"actual − forecast ({_units_label(request.units, request.feature)})",
            title=f"{request.feature}: residuals, every forecast step, {_split_name(request.split)} split",
        )

    def _error_per_step(self, evaluation: er.Evaluation, request: pb.RenderPlotRequest, size: PlotSize) -> Figure:
        table = self._evaluations.stored_table(evaluation, er.METRIC_TABLE_KIND_PER_STEP, request.split, request.units)
        # Models in the request's order, so each keeps its colour across the plots.
        models: dict[str, list[float]] = {_short(model): [] for model in request.models}
        baselines: dict[str, list[float]] = {}
        for row in sorted(table.rows, key=lambda row: row.step):
            if row.feature != request.feature or (row.model and _short(row.model) not in models):
                continue
            score = next(s.value for s in row.scores if s.metric == request.metric)
            value = score.value if score.HasField("value") else np.nan
            if row.model:
                models[_short(row.model)].append(value)
            else:
                label = f"baseline: {row.baseline_label or _baseline_name(row.baseline)}"
                baselines.setdefault(label, []).append(value)
        metric = er.Metric.Name(request.metric).removeprefix("METRIC_")
        return charts.error_per_step(
            {label: values for label, values in models.items() if values},
            baselines,
            size=size,
            ylabel=f"{metric} ({_units_name(request.units)})",
            title=f"{request.feature}: {metric} per forecast step, {_split_name(request.split)} split",
        )

    def _loss_curves(self, tenant: str, evaluation: er.Evaluation, models: Sequence[str], size: PlotSize) -> Figure:
        run = self._training.get_run(tenant, evaluation.run)
        chosen = set(models)
        histories = {
            _short(model.name): LossHistory(
                [e.epoch for e in model.history],
                [e.loss for e in model.history],
                [e.val_loss if e.HasField("val_loss") else None for e in model.history],
                model.best_epoch,
            )
            for model in run.models
            if model.name in chosen and model.history
        }
        if not histories:
            raise FailedPrecondition(
                "none of these models has a training history (scikit-learn models have none)", evaluation.name
            )
        return charts.loss_curves(histories, title="loss per epoch", size=size)

    def _violins(self, tenant: str, evaluation: er.Evaluation, feature: str, size: PlotSize) -> Figure:
        run = self._training.get_run(tenant, evaluation.run)
        dataset = self._training.get_dataset(tenant, run.dataset)
        objects = [
            o
            for o in dataset.objects
            if o.kind == tr.DATASET_OBJECT_KIND_VIOLIN_PLOT and (not feature or o.feature == feature)
        ]
        if feature and not objects:
            known = sorted({o.feature for o in dataset.objects if o.kind == tr.DATASET_OBJECT_KIND_VIOLIN_PLOT})
            raise InvalidArgument(
                FieldViolation(
                    "feature", f"the dataset has no violin plot of {feature!r} ({', '.join(known) or 'none'})"
                )
            )
        # Each stored plot carries its own title: the grid adds none.
        images = [self._training.read_dataset_object(tenant, run.dataset, o.id) for o in objects]
        what = repr(feature) if feature else "each feature"
        return charts.image_grid(images, title=f"dataset: distribution of {what} per split", size=size)


def _short(model: str) -> str:
    """ "runs/ab12/models/dense" -> "dense"."""
    return model.rsplit("/", 1)[-1]


def _baseline_name(baseline: int) -> str:
    """For tables stored before rows had labels."""
    return er.Baseline.Name(baseline).removeprefix("BASELINE_").lower().replace("_", " ")


def _split_name(split: int) -> str:
    return common_pb2.DataSplit.Name(split).removeprefix("DATA_SPLIT_").lower()


def _units_name(units: int) -> str:
    return er.ValueUnits.Name(units).removeprefix("VALUE_UNITS_").lower()


def _units_label(units: int, feature: str) -> str:
    return f"{feature} (scaled)" if units == er.VALUE_UNITS_SCALED else feature


def _minutes(minutes: float) -> str:
    return f"{minutes / 60:g} h" if minutes >= 60 else f"{minutes:g} min"
