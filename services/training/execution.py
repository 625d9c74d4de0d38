"""A run, as a worker executes it: train each model in turn on the dataset's arrays,
report progress as events, store each model's artifact, predictions and prediction
intervals, and its validation score.

Each model's predictions on every split go into predictions-{split}.npz in original
and scaled units, with "lower" and "upper" (rows, levels, output_steps, n_outputs):
split-conformal intervals at "interval_levels" calibrated on the validation split
(tsforge.forecasting.intervals), also recorded in ModelResult.intervals. An ensemble is
made from its members' stored predictions and artifacts after they have trained.

Time budgets (ModelSpec.time_limit) add up along the run: model i may run until the
run's start plus the budgets of models 1..i; a model whose point has passed before it
starts is SKIPPED, Keras and LightGBM fits stop at it with their best weights.

Imports the model layer (TensorFlow on first use): only worker processes import this module."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import numpy as np

from services.training import repository as repo
from services.training.build import load_arrays, put_npz
from services.training.job_objects import JobGone, JobObjects, dataset_prefix, model_prefix
from services.training.jobs import finish_run
from services.training.messages import from_json
from services.training.rows import RunRow
from services.training.run_events import ModelReporter, RunEvents
from tsforge.common.v1 import common_pb2
from tsforge.core.db import reconnecting
from tsforge.core.errors import QuotaExceeded
from tsforge.core.storage import ObjectNotFound
from tsforge.forecasting.estimators.specs import EnsembleSpec, ModelKind, ResolvedModel, resolve_model_specs, to_proto
from tsforge.forecasting.estimators.trainer import ArtifactFormat, TrainingCancelled, TrainingData, train_model
from tsforge.forecasting.intervals import ConformalIntervals
from tsforge.forecasting.scaling import MinMaxScalers
from tsforge.forecasting.target_history import TargetHistory
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)

SPLITS = (
    ("train", common_pb2.DATA_SPLIT_TRAIN),
    ("validation", common_pb2.DATA_SPLIT_VALIDATION),
    ("test", common_pb2.DATA_SPLIT_TEST),
)
FORMATS = {
    "keras": (common_pb2.ARTIFACT_FORMAT_KERAS, "model.keras", "application/octet-stream"),
    "joblib": (common_pb2.ARTIFACT_FORMAT_JOBLIB, "model.joblib", "application/octet-stream"),
    "lightgbm": (common_pb2.ARTIFACT_FORMAT_LIGHTGBM, "model.lightgbm.json", "application/json"),
    "ensemble": (common_pb2.ARTIFACT_FORMAT_ENSEMBLE, "model.ensemble.zip", "application/zip"),
}
FORMAT_NAMES = {proto: name for name, (proto, _, _) in FORMATS.items()}


def execute_run(worker, row: RunRow, alive: Callable[[], bool]) -> None:
    """Trains every pending model of the run and ends it SUCCEEDED, FAILED or CANCELLED."""
    started = time.monotonic()
    events = RunEvents(worker.db, row.id)
    results = [from_json(m, tr.ModelResult) for m in row.models]
    try:
        data, scalers, arrays = _load_dataset(worker, row)
        resolved, problems = resolve_model_specs([r.spec for r in results], data.input_steps)
        if problems:
            raise ValueError("; ".join(f"{p.field}: {p.description}" for p in problems))
    except Exception as error:
        log.exception("run %s could not load its dataset", row.id)
        _finish(worker, row.id, tr.RUN_STATE_FAILED, f"the dataset could not be loaded: {error}")
        return
    run = _RunContext(worker, row, events, data, scalers, arrays, alive, _threads(worker.config))
    budget = 0.0
    quota_failure = ""
    for index, (result, model) in enumerate(zip(results, resolved)):
        budget += model.time_limit or 0.0
        if result.state != tr.MODEL_STATE_PENDING:
            continue  # finished in an earlier attempt
        if not alive():
            break
        deadline = started + budget if model.time_limit is not None else None
        if deadline is not None and model.kind is not ModelKind.ENSEMBLE and time.monotonic() >= deadline:
            result.state = tr.MODEL_STATE_SKIPPED
            events.emit(
                tr.RunEvent(
                    warning=tr.JobWarning(model=result.name, message="skipped: the run's time budget is spent")
                ),
                result,
                index,
            )
            continue
        quota_failure = _train_one(run, result, index, model, results, deadline)
        if quota_failure:
            break  # the tenant's quota is spent: the models after it would not fit either
    counts = {
        state: sum(1 for r in results if r.state == state)
        for state in (tr.MODEL_STATE_SUCCEEDED, tr.MODEL_STATE_FAILED, tr.MODEL_STATE_CANCELLED, tr.MODEL_STATE_SKIPPED)
    }
    summary = tr.RunSummary(
        succeeded_count=counts[tr.MODEL_STATE_SUCCEEDED],
        failed_count=counts[tr.MODEL_STATE_FAILED],
        cancelled_count=counts[tr.MODEL_STATE_CANCELLED],
        skipped_count=counts[tr.MODEL_STATE_SKIPPED],
        best_model=best_model(results),
    )
    summary.duration.FromTimedelta(timedelta(seconds=time.monotonic() - started))
    events.emit(tr.RunEvent(summary=summary))
    if quota_failure:
        _finish(worker, row.id, tr.RUN_STATE_FAILED, quota_failure)
    elif not alive():
        _finish(worker, row.id, tr.RUN_STATE_CANCELLED, "cancelled by user")
    elif counts[tr.MODEL_STATE_SUCCEEDED]:
        _finish(worker, row.id, tr.RUN_STATE_SUCCEEDED)
    else:
        _finish(worker, row.id, tr.RUN_STATE_FAILED, "no model could be trained")


class _RunContext:
    """What every model of one run shares."""

    def __init__(self, worker, row, events, data, scalers, arrays, alive, threads):
        self.worker, self.row, self.events = worker, row, events
        self.data: TrainingData = data
        self.scalers: MinMaxScalers = scalers
        self.arrays: dict = arrays
        self.alive, self.threads = alive, threads
        self.objects = JobObjects(worker.db, worker.store, worker.config.tenant_quota_bytes, "run", row.tenant, row.id)

    def prefix(self, result: tr.ModelResult) -> str:
        return model_prefix(self.row.tenant, result.name)


def _threads(config) -> int:
    workers = max(1, getattr(config, "training_workers", 1))
    return getattr(config, "worker_threads", 0) or max(1, (os.cpu_count() or 1) // workers)


def _train_one(
    run: _RunContext,
    result: tr.ModelResult,
    index: int,
    model: ResolvedModel,
    results: list[tr.ModelResult],
    deadline: float | None,
) -> str:
    """Trains, predicts and stores one model. Returns the reason the run must fail
    when the model's objects would go over the tenant's byte quota (its objects
    deleted, the model FAILED), else ""."""
    events = run.events
    quota_failure = ""
    result.state = tr.MODEL_STATE_RUNNING
    result.start_time.GetCurrentTime()
    events.emit(
        tr.RunEvent(model_started=tr.ModelStarted(model=result.name, model_type=result.model_type)), result, index
    )
    started = time.monotonic()
    try:
        if model.kind is ModelKind.ENSEMBLE:
            _make_ensemble(run, result, model, results)
        else:
            reporter = ModelReporter(events, result, index, run.alive)
            trained = train_model(model, run.data, reporter, threads=run.threads, deadline=deadline)
            predictions = {name: _predict(run, trained, name) for name, _ in SPLITS}
            _store_results(run, result, trained.artifact, str(trained.artifact_format), predictions)
            result.best_epoch = trained.best_epoch
            if trained.effective_params is not None:
                result.spec.CopyFrom(to_proto(replace(model, params=trained.effective_params)))
        result.state = tr.MODEL_STATE_SUCCEEDED
    except TrainingCancelled:
        result.state = tr.MODEL_STATE_CANCELLED
    except QuotaExceeded as error:
        _discard_model(run, result)
        result.state, result.failure_reason = tr.MODEL_STATE_FAILED, error.message
        quota_failure = error.message
        events.emit(tr.RunEvent(error=tr.JobError(model=result.name, code="RESOURCE_EXHAUSTED", message=error.message)))
    except JobGone:
        _discard_model(run, result)  # deleted with its session while it trained
        raise
    except Exception as error:
        log.exception("model %s failed", result.name)
        _discard_model(run, result)  # what it stored before it failed
        result.state, result.failure_reason = tr.MODEL_STATE_FAILED, f"{type(error).__name__}: {error}"
        events.emit(tr.RunEvent(error=tr.JobError(model=result.name, code="INTERNAL", message=result.failure_reason)))
    result.end_time.GetCurrentTime()
    finished = tr.ModelFinished(model=result.name, state=result.state, failure_reason=result.failure_reason)
    finished.duration.FromTimedelta(timedelta(seconds=time.monotonic() - started))
    events.emit(tr.RunEvent(model_finished=finished), result, index)
    return quota_failure


def _discard_model(run: _RunContext, result: tr.ModelResult) -> None:
    """Deletes what a model that did not succeed stored, and gives its bytes back."""
    try:
        run.objects.discard(run.prefix(result))
    except JobGone:
        pass
    except Exception:  # the store or database is down: the model's failure is what matters
        log.warning("could not delete the objects of %s", result.name, exc_info=True)
    result.ClearField("artifact")
    del result.predictions[:]


def _predict(run: _RunContext, trained, split: str) -> np.ndarray:
    """The model's scaled predictions on one split's windows."""
    arrays = run.arrays[split]
    x, y = arrays["x"], arrays["y"]
    if not len(x):
        return np.empty_like(y)
    references = arrays["reference_times"].astype(np.int64) * 10**9
    history = run.data.history_at(references)
    return np.asarray(trained.predict(x, arrays["future"], history), dtype=np.float32)


def _make_ensemble(run: _RunContext, result: tr.ModelResult, model: ResolvedModel, results) -> None:
    """Weights from the members' stored validation predictions; the ensemble's
    predictions from theirs on every split; its artifact from theirs."""
    from tsforge.forecasting.estimators import ensemble

    by_id = {r.name.rsplit("/", 1)[1]: r for r in results}
    params = model.params
    if not isinstance(params, EnsembleSpec):
        raise ValueError(f"{model.kind.value} is not an ensemble")
    members = [by_id[i] for i in params.members if by_id[i].state == tr.MODEL_STATE_SUCCEEDED]
    if not members:
        raise ValueError("none of the ensemble's members succeeded")
    stored = {
        name: np.stack([_stored_predictions(run, m, name) for m in members]) for name, _ in SPLITS
    }  # (members, n, steps, outputs), scaled
    validation = run.arrays["validation"]["y"]
    weights = ensemble.fit_weights(stored["validation"], validation)
    predictions = {name: ensemble.combine(stored[name], weights) for name, _ in SPLITS}
    # Scored and calibrated out of sample: each half of validation with the other's weights.
    honest = ensemble.cross_fitted(stored["validation"], validation)
    artifact = ensemble.to_bytes(
        [
            ensemble.Member(
                m.name.rsplit("/", 1)[1],
                common_pb2.ModelType.Name(m.model_type),
                FORMAT_NAMES[m.artifact_format],
                b"".join(run.worker.store.read(m.artifact.key)),
            )
            for m in members
        ],
        weights,
    )
    _store_results(run, result, artifact, "ensemble", predictions, honest)
    result.spec.ensemble.ClearField("members")
    result.spec.ensemble.members.extend(m.name.rsplit("/", 1)[1] for m in members)


def _stored_predictions(run: _RunContext, member: tr.ModelResult, split: str) -> np.ndarray:
    ref = next(p for p in member.predictions if p.split == dict(SPLITS)[split])
    return load_arrays(run.worker.store, ref.object.key)["predicted_scaled"]


def _store_results(
    run: _RunContext,
    result: tr.ModelResult,
    artifact: bytes,
    format: str,
    predictions: dict,
    validation_forecasts: np.ndarray | None = None,
) -> None:
    """Stores the artifact and, per split, the predictions with their intervals; records
    the intervals and the validation score on `result`, both from the validation
    predictions (or from `validation_forecasts`, scaled, when the stored ones are
    in-sample)."""
    scalers = run.scalers
    prefix = run.prefix(result)
    artifact_format, file_name, content_type = FORMATS[ArtifactFormat(format).value]
    key = f"{prefix}{file_name}"
    size, sha256 = run.objects.put_bytes(key, artifact)
    result.artifact_format = artifact_format
    result.artifact.CopyFrom(common_pb2.ObjectRef(key=key, size_bytes=size, content_type=content_type, sha256=sha256))
    original = {name: scalers.inverse_transform_outputs(predictions[name]) for name, _ in SPLITS}
    actual = {name: scalers.inverse_transform_outputs(run.arrays[name]["y"]) for name, _ in SPLITS}
    intervals = None
    result.ClearField("intervals")
    result.ClearField("validation")
    scored = original["validation"]
    if validation_forecasts is not None:
        scored = scalers.inverse_transform_outputs(np.asarray(validation_forecasts, dtype=np.float32))
    if len(actual["validation"]):
        intervals = ConformalIntervals.calibrate(scored, actual["validation"])
        result.intervals.CopyFrom(
            tr.PredictionIntervals(
                levels=list(intervals.levels),
                method=tr.INTERVAL_METHOD_CONFORMAL,
                half_widths=intervals.half_widths.ravel().tolist(),
                calibration_sample_count=intervals.calibration_count,
            )
        )
        errors = scored.astype(np.float64) - actual["validation"]
        result.validation.CopyFrom(
            tr.ValidationScore(
                mae=float(np.abs(errors).mean()),
                rmse=float(np.sqrt((errors**2).mean())),
                sample_count=len(errors),
            )
        )
    del result.predictions[:]
    for name, split in SPLITS:
        extra = {}
        if intervals is not None and intervals.levels:
            lower, upper = intervals.bounds(original[name])
            extra = {"lower": lower, "upper": upper, "interval_levels": np.asarray(intervals.levels)}
        ref = put_npz(
            run.objects,
            f"{prefix}predictions-{name}.npz",
            reference_times=run.arrays[name]["reference_times"],
            predicted_scaled=predictions[name],
            actual_scaled=run.arrays[name]["y"],
            predicted=original[name],
            actual=actual[name],
            **extra,
        )
        result.predictions.add(split=split, row_count=len(predictions[name]), object=ref)


def _load_dataset(worker, row: RunRow) -> tuple[TrainingData, MinMaxScalers, dict]:
    """The training data, the scalers, and every split's arrays by split name."""
    prefix = dataset_prefix(row.tenant, row.dataset_id)
    arrays = {name: load_arrays(worker.store, f"{prefix}arrays-{name}.npz") for name, _ in SPLITS}
    for split in arrays.values():
        if "future" not in split:  # datasets built before future windows existed
            split["future"] = np.zeros((*split["y"].shape[:2], 0), dtype=np.float32)
    scalers = MinMaxScalers.from_dict(json.loads(b"".join(worker.store.read(f"{prefix}scalers.json"))))
    history = None
    try:
        grid = load_arrays(worker.store, f"{prefix}history.npz")
        history = TargetHistory(int(grid["start"]), int(grid["step"]), grid["values"], int(grid["lead"]))
    except ObjectNotFound:
        pass  # the outputs have no common grid: statistical models will say so
    data = TrainingData(
        x_train=arrays["train"]["x"],
        y_train=arrays["train"]["y"],
        x_val=arrays["validation"]["x"],
        y_val=arrays["validation"]["y"],
        future_train=arrays["train"]["future"],
        future_val=arrays["validation"]["future"],
        history=history,
        train_references=arrays["train"]["reference_times"].astype(np.int64) * 10**9,
        val_references=arrays["validation"]["reference_times"].astype(np.int64) * 10**9,
        n_calendar=arrays["train"]["x"].shape[2] - len(scalers.inputs),
    )
    return data, scalers, arrays


def best_model(results: list[tr.ModelResult]) -> str:
    """The SUCCEEDED model with the lowest validation MAE ("" when none has one)."""
    scored = [
        (r.validation.mae, r.name) for r in results if r.state == tr.MODEL_STATE_SUCCEEDED and r.HasField("validation")
    ]
    return min(scored)[1] if scored else ""


def _finish(worker, run_id: str, state: int, reason: str = "") -> None:
    def write() -> None:
        with worker.db.transaction() as session:
            row = repo.lock_run(session, run_id)
            if row is not None and row.state == tr.RUN_STATE_RUNNING:
                finish_run(session, row, state, reason)

    reconnecting(write)
