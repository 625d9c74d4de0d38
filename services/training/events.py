"""Training's event channels, on the shared machinery of tsforge.core.events: dataset
builds and runs share one event table (job_events) and one channel; idle workers listen
on the queue channel. Appending and following events is repository.py's."""

from __future__ import annotations

from services.training.rows import EventRow
from tsforge.core import events

CHANNEL = "tsforge_training_events"
# Announced when there may be work to claim: a job queued, a dataset ready for its runs.
QUEUE_CHANNEL = "tsforge_training_queue"
LOG = events.EventLog(EventRow, CHANNEL)


class WorkSignal(events.WorkSignal):
    """A worker's LISTEN connection on the training queue channel."""

    def __init__(self, database_url: str):
        super().__init__(database_url, QUEUE_CHANNEL)


class EventHub(events.EventHub):
    """The process's one LISTEN connection on training's event channel."""

    def __init__(self, database_url: str):
        super().__init__(database_url, CHANNEL)
