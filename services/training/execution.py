"""A run, as a worker executes it: train each model in turn on the dataset's arrays,
report progress as events, store each model's artifact and predictions.

Imports the model layer (TensorFlow): only worker processes import this module."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from services.training.build import _put_npz, dataset_prefix, load_arrays
from services.training.events import append_event
from services.training.jobs import finish_run
from services.training.resources import from_json, to_json
from services.training.rows import RunRow
from tsforge.common.v1 import common_pb2
from tsforge.core.db import reconnecting
from tsforge.forecasting.estimators.specs import resolve_model_specs
from tsforge.forecasting.estimators.trainer import TrainingCancelled, TrainingData, train_model
from tsforge.forecasting.scaling import MinMaxScalers
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
}


def run_prefix(tenant: str, run_id: str) -> str:
    return f"runs/{tenant}/{run_id}/"


class RunEvents:
    """Appends a run's events and updates its model results, one short transaction each."""

    def __init__(self, db, run_id: str):
        self._db, self._run_id = db, run_id

    def emit(self, event: tr.RunEvent, update_model: tr.ModelResult | None = None, index: int = -1) -> None:
        """Records the event (and the model's result), riding out a database restart."""

        def write() -> None:
            with self._db.transaction() as session:
                if update_model is not None:
                    row = session.get(RunRow, self._run_id, with_for_update=True)
                    models = list(row.models)
                    models[index] = to_json(update_model)
                    row.models = models
                append_event(session, RunRow, self._run_id, event)

        reconnecting(write)


class ModelReporter:
    """The trainer's progress reporter for one model: epochs and batches become events."""

    BATCH_EVENT_SECONDS = 0.5

    def __init__(self, events: RunEvents, result: tr.ModelResult, index: int, alive: Callable[[], bool]):
        self._events, self._result, self._index, self._alive = events, result, index, alive
        self._started = time.monotonic()
        self._last_batch = 0.0

    def epoch_end(self, metrics, total_epochs: int) -> None:
        entry = metrics.to_proto()
        self._result.history.append(entry)
        event = tr.RunEvent(epoch_end=tr.EpochEnd(model=self._result.name, metrics=entry, total_epochs=total_epochs))
        elapsed = time.monotonic() - self._started
        event.epoch_end.eta.FromTimedelta(timedelta(seconds=elapsed / metrics.epoch * (total_epochs - metrics.epoch)))
        self._events.emit(event, self._result, self._index)

    def batch(self, epoch: int, batch: int, total_batches: int, loss: float) -> None:
        now = time.monotonic()
        if now - self._last_batch < self.BATCH_EVENT_SECONDS:
            return
        self._last_batch = now
        self._events.emit(
            tr.RunEvent(
                batch_progress=tr.BatchProgress(
                    model=self._result.name, epoch=epoch, batch=batch, total_batches=total_batches, loss=loss
                )
            )
        )

    def should_stop(self) -> bool:
        return not self._alive()


def execute_run(worker, row: RunRow, alive: Callable[[], bool]) -> None:
    """Trains every pending model of the run and ends it SUCCEEDED, FAILED or CANCELLED."""
    started = time.monotonic()
    events = RunEvents(worker.db, row.id)
    results = [from_json(m, tr.ModelResult) for m in row.models]
    try:
        data, scalers, arrays = _load_dataset(worker, row)
    except Exception as error:
        log.exception("run %s could not load its dataset", row.id)
        _finish(worker, row.id, tr.RUN_STATE_FAILED, f"the dataset could not be loaded: {error}")
        return
    input_steps = data.x_train.shape[1]
    for index, result in enumerate(results):
        if result.state != tr.MODEL_STATE_PENDING:
            continue  # finished in an earlier attempt
        if not alive():
            break
        _train_one(worker, row, events, result, index, data, scalers, arrays, input_steps, alive)
    counts = {
        state: sum(1 for r in results if r.state == state)
        for state in (tr.MODEL_STATE_SUCCEEDED, tr.MODEL_STATE_FAILED, tr.MODEL_STATE_CANCELLED)
    }
    summary = tr.RunSummary(
        succeeded_count=counts[tr.MODEL_STATE_SUCCEEDED],
        failed_count=counts[tr.MODEL_STATE_FAILED],
        cancelled_count=counts[tr.MODEL_STATE_CANCELLED],
        best_model=_best(results),
    )
    summary.duration.FromTimedelta(timedelta(seconds=time.monotonic() - started))
    events.emit(tr.RunEvent(summary=summary))
    if not alive():
        _finish(worker, row.id, tr.RUN_STATE_CANCELLED, "cancelled by user")
    elif counts[tr.MODEL_STATE_SUCCEEDED]:
        _finish(worker, row.id, tr.RUN_STATE_SUCCEEDED)
    else:
        _finish(worker, row.id, tr.RUN_STATE_FAILED, "no model could be trained")


def _train_one(
    worker,
    row,
    events: RunEvents,
    result: tr.ModelResult,
    index: int,
    data: TrainingData,
    scalers: MinMaxScalers,
    arrays: dict,
    input_steps: int,
    alive,
) -> None:
    result.state = tr.MODEL_STATE_RUNNING
    result.start_time.GetCurrentTime()
    events.emit(
        tr.RunEvent(model_started=tr.ModelStarted(model=result.name, model_type=result.model_type)), result, index
    )
    started = time.monotonic()
    try:
        [resolved], problems = resolve_model_specs([result.spec], input_steps)
        if problems:
            raise ValueError("; ".join(f"{p.field}: {p.description}" for p in problems))
        trained = train_model(resolved, data, ModelReporter(events, result, index, alive))
        _store_results(worker, row, result, trained, scalers, arrays)
        result.state = tr.MODEL_STATE_SUCCEEDED
        result.best_epoch = trained.best_epoch
    except TrainingCancelled:
        result.state = tr.MODEL_STATE_CANCELLED
    except Exception as error:
        log.exception("model %s failed", result.name)
        result.state, result.failure_reason = tr.MODEL_STATE_FAILED, f"{type(error).__name__}: {error}"
        events.emit(tr.RunEvent(error=tr.JobError(model=result.name, code="INTERNAL", message=result.failure_reason)))
    result.end_time.GetCurrentTime()
    finished = tr.ModelFinished(model=result.name, state=result.state, failure_reason=result.failure_reason)
    finished.duration.FromTimedelta(timedelta(seconds=time.monotonic() - started))
    events.emit(tr.RunEvent(model_finished=finished), result, index)


def _store_results(worker, row, result: tr.ModelResult, trained, scalers, arrays: dict) -> None:
    model_id = result.name.rsplit("/", 1)[1]
    prefix = f"{run_prefix(row.tenant, row.id)}{model_id}/"
    artifact_format, file_name, content_type = FORMATS[str(trained.artifact_format)]
    key = f"{prefix}{file_name}"
    size = worker.store.put(key, [trained.artifact])
    result.artifact_format = artifact_format
    result.artifact.CopyFrom(
        common_pb2.ObjectRef(
            key=key, size_bytes=size, content_type=content_type, sha256=hashlib.sha256(trained.artifact).hexdigest()
        )
    )
    del result.predictions[:]
    for name, split in SPLITS:
        x, y = arrays[name]["x"], arrays[name]["y"]
        predicted_scaled = trained.predict(x).astype(np.float32) if len(x) else np.empty_like(y)
        ref = _put_npz(
            worker.store,
            f"{prefix}predictions-{name}.npz",
            reference_times=arrays[name]["reference_times"],
            predicted_scaled=predicted_scaled,
            actual_scaled=y,
            predicted=scalers.inverse_transform_outputs(predicted_scaled),
            actual=scalers.inverse_transform_outputs(y),
        )
        result.predictions.add(split=split, row_count=len(x), object=ref)


def _load_dataset(worker, row: RunRow) -> tuple[TrainingData, MinMaxScalers, dict]:
    """The training data, the scalers, and every split's arrays by split name."""
    prefix = dataset_prefix(row.tenant, row.dataset_id)
    arrays = {name: load_arrays(worker.store, f"{prefix}arrays-{name}.npz") for name, _ in SPLITS}
    scalers = MinMaxScalers.from_dict(json.loads(b"".join(worker.store.read(f"{prefix}scalers.json"))))
    data = TrainingData(
        x_train=arrays["train"]["x"],
        y_train=arrays["train"]["y"],
        x_val=arrays["validation"]["x"],
        y_val=arrays["validation"]["y"],
    )
    return data, scalers, arrays


def _best(results: list[tr.ModelResult]) -> str:
    scored = [
        (min((h.val_loss for h in r.history if h.HasField("val_loss")), default=float("inf")), r.name)
        for r in results
        if r.state == tr.MODEL_STATE_SUCCEEDED
    ]
    return min(scored)[1] if scored else ""


def _finish(worker, run_id: str, state: int, reason: str = "") -> None:
    def write() -> None:
        with worker.db.transaction() as session:
            row = session.scalar(sa.select(RunRow).where(RunRow.id == run_id).with_for_update())
            if row is not None and row.state == tr.RUN_STATE_RUNNING:
                finish_run(session, row, state, reason)

    reconnecting(write)
