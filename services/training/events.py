"""Training's progress events and work announcements, on the shared machinery of
tsforge.core.events: dataset builds and runs share one event table (job_events) and
one channel; idle workers listen on the queue channel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.training.rows import EventRow
from tsforge.core import events

CHANNEL = "tsforge_training_events"
# Announced when there may be work to claim: a job queued, a dataset ready for its runs.
QUEUE_CHANNEL = "tsforge_training_queue"
LOG = events.EventLog(EventRow, CHANNEL)


def append_event(session: Session, job_table, job_id: str, event) -> int:
    """Adds `event` (a RunEvent or DatasetBuildEvent; sequence and time are set here)
    to the job's log in the caller's transaction. Returns its sequence number."""
    return LOG.append(session, job_table, job_id, event)


def announce_work(session: Session) -> None:
    """Wakes idle workers (at commit) instead of letting them find the job at their next poll."""
    events.announce(session, QUEUE_CHANNEL)


class WorkSignal(events.WorkSignal):
    """A worker's LISTEN connection on the training queue channel."""

    def __init__(self, database_url: str):
        super().__init__(database_url, QUEUE_CHANNEL)


class EventHub(events.EventHub):
    """The process's one LISTEN connection on training's event channel."""

    def __init__(self, database_url: str):
        super().__init__(database_url, CHANNEL)
