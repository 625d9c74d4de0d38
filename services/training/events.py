"""Progress events: a numbered log per job in PostgreSQL, announced with NOTIFY.

Appending an event bumps the job's last_event_sequence and inserts the event in
the same transaction, then NOTIFYs the job id (delivered at commit). Each process
keeps ONE listening connection (EventHub) and wakes its watchers of that job; a
watcher then reads what is new from the table. So any replica can serve any
watcher, and a client that reconnects with its last sequence misses nothing and
sees nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.training.rows import EventRow
from tsforge.core.timestamps import utc_now

log = logging.getLogger(__name__)

CHANNEL = "tsforge_training_events"
# Announced when there may be work to claim: a job queued, a dataset ready for its runs.
QUEUE_CHANNEL = "tsforge_training_queue"


def append_event(session: Session, job_table, job_id: str, event) -> int:
    """Adds `event` (a RunEvent or DatasetBuildEvent; sequence and time are set here)
    to the job's log in the caller's transaction. Returns its sequence number."""
    sequence = session.execute(
        sa.update(job_table)
        .where(job_table.id == job_id)
        .values(last_event_sequence=job_table.last_event_sequence + 1)
        .returning(job_table.last_event_sequence)
    ).scalar_one()
    stamp = utc_now()
    event.sequence = sequence
    event.time.FromDatetime(stamp)
    session.add(EventRow(job_id=job_id, sequence=sequence, time=stamp, payload=event.SerializeToString()))
    session.execute(sa.select(sa.func.pg_notify(CHANNEL, job_id)))
    return sequence


def announce_work(session: Session) -> None:
    """Wakes idle workers (at commit) instead of letting them find the job at their next poll."""
    session.execute(sa.select(sa.func.pg_notify(QUEUE_CHANNEL, "")))


class WorkSignal:
    """A worker's own LISTEN connection on the queue channel: wait() returns as soon as
    work is announced (or was announced while the worker was busy), or after `timeout`."""

    def __init__(self, database_url: str):
        self._url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self._connection: psycopg.Connection | None = None

    def wait(self, timeout: float) -> None:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self._url, autocommit=True)
                self._connection.execute(f"LISTEN {QUEUE_CHANNEL}")
            for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error:
            log.warning("waiting for work failed; polling instead", exc_info=True)
            self._connection = None
            time.sleep(timeout)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def events_after(session: Session, job_id: str, after: int, limit: int = 1000) -> list[bytes]:
    query = (
        sa.select(EventRow.payload)
        .where(EventRow.job_id == job_id, EventRow.sequence > after)
        .order_by(EventRow.sequence)
        .limit(limit)
    )
    return list(session.scalars(query))


class EventHub:
    """One LISTEN connection for the whole process, fanned out to its watchers.

    Watchers are asyncio tasks (the server's streams): a notification sets their
    asyncio.Event through their loop, so a waiting watcher holds no thread.
    """

    def __init__(self, database_url: str):
        self._url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self._waiters: dict[str, set[Callable[[], None]]] = defaultdict(set)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="event-hub", daemon=True)
        self._thread.start()
        self._connected.wait(timeout=10)

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[asyncio.Event]:
        """An asyncio.Event set whenever the job announces new events, while the block runs."""
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()

        def waker() -> None:
            loop.call_soon_threadsafe(wake.set)

        with self._lock:
            self._waiters[job_id].add(waker)
        try:
            yield wake
        finally:
            with self._lock:
                self._waiters[job_id].discard(waker)
                if not self._waiters[job_id]:
                    del self._waiters[job_id]

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._connected.set()
                    self._wake_all()  # anything announced while (re)connecting
                    while not self._stopping.is_set():
                        for notify in connection.notifies(timeout=1.0):
                            self._wake(notify.payload)
            except psycopg.Error:
                log.warning("event listener lost its connection; reconnecting", exc_info=True)
                time.sleep(1)

    def _wake(self, job_id: str) -> None:
        with self._lock:
            wakers = list(self._waiters.get(job_id, ()))
        for waker in wakers:
            _call(waker)

    def _wake_all(self) -> None:
        with self._lock:
            wakers = [waker for waiters in self._waiters.values() for waker in waiters]
        for waker in wakers:
            _call(waker)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


def _call(waker: Callable[[], None]) -> None:
    try:
        waker()
    except RuntimeError:  # the watcher's loop closed under it: nothing left to wake
        pass


async def follow(
    read_after: Callable[[int], Awaitable[tuple[list, bool]]],
    is_last: Callable[[object], bool],
    wake: asyncio.Event,
    after: int,
    poll_seconds: float = 5.0,
) -> AsyncIterator:
    """Yields the events after `after`, then new ones as they are announced, until
    `is_last(event)`, or until `read_after` says the job has ended with nothing left
    to send (a watcher that already saw the last event). `read_after(seq)` returns
    (parsed events with `.sequence`, ended); the poll is a safety net should a
    notification be lost. The caller's cancellation (the client left) ends it."""
    last = after
    while True:
        wake.clear()  # before reading: an announcement during the read is not lost
        events, ended = await read_after(last)
        for event in events:
            yield event
            last = event.sequence
            if is_last(event):
                return
        if ended and not events:
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass
