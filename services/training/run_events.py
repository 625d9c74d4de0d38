"""A run's progress as its worker reports it: events (epochs, batches, models started
and finished) and each model's result, written to the run's row and event log."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from services.training import repository as repo
from services.training.job_objects import JobGone
from services.training.messages import to_json
from tsforge.core.db import reconnecting
from tsforge.training.v1 import training_resources_pb2 as tr


class RunEvents:
    """Appends a run's events and updates its model results, one short transaction each."""

    def __init__(self, db, run_id: str):
        self._db, self._run_id = db, run_id

    def emit(self, event: tr.RunEvent, update_model: tr.ModelResult | None = None, index: int = -1) -> None:
        """Records the event (and the model's result), riding out a database restart."""

        def write() -> None:
            with self._db.transaction() as session:
                if update_model is not None:
                    row = repo.lock_run(session, self._run_id)
                    if row is None:
                        raise JobGone(f"run {self._run_id} was deleted")
                    models = list(row.models)
                    models[index] = to_json(update_model)
                    repo.update_run(session, row, models=models)
                repo.append_event(session, "run", self._run_id, event)

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
