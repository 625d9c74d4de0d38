"""Progress events of queued jobs: a numbered log per job in PostgreSQL, announced with
NOTIFY, followed live by watchers on any replica. One implementation for every kind
of job (dataset builds and runs in training, evaluations in evaluation).

A kind of job keeps its events in one table (job_id, sequence, time, payload: the
serialized event message) and its jobs in tables with `id`, `state` and
`last_event_sequence`. Appending an event bumps the job's last_event_sequence and
inserts the event in the caller's transaction, then NOTIFYs the job id on the log's
channel (delivered at commit). Each process keeps ONE listening connection per channel
(EventHub) and wakes its watchers of that job; a watcher then reads what is new from the
table. So any replica can serve any watcher, and a client that reconnects with its last
sequence misses nothing and sees nothing twice.

Event messages have `sequence`, `time` and a oneof `event` with a `state_change` member
that carries `state`: a job ends with the state change into a terminal state.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tsforge.core.db import Database
from tsforge.core.timestamps import utc_now

log = logging.getLogger(__name__)

READ_BATCH = 1000  # events read per query while replaying


def _libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


class EventLog:
    """The event table of one kind of job and the channel that announces its events."""

    def __init__(self, events_table, channel: str):
        self.events_table = events_table
        self.channel = channel

    def append(self, session: Session, job_table, job_id: str, event) -> int:
        """Adds `event` (sequence and time are set here) to the job's log in the caller's
        transaction. Returns its sequence number."""
        sequence = session.execute(
            sa.update(job_table)
            .where(job_table.id == job_id)
            .values(last_event_sequence=job_table.last_event_sequence + 1)
            .returning(job_table.last_event_sequence)
        ).scalar_one()
        stamp = utc_now()
        event.sequence = sequence
        event.time.FromDatetime(stamp)
        session.add(self.events_table(job_id=job_id, sequence=sequence, time=stamp, payload=event.SerializeToString()))
        session.execute(sa.select(sa.func.pg_notify(self.channel, job_id)))
        return sequence

    def after(self, session: Session, job_id: str, after: int, limit: int = READ_BATCH) -> list[bytes]:
        """The payloads of the job's events after sequence `after`, oldest first."""
        table = self.events_table
        query = (
            sa.select(table.payload)
            .where(table.job_id == job_id, table.sequence > after)
            .order_by(table.sequence)
            .limit(limit)
        )
        return list(session.scalars(query))


def announce(session: Session, channel: str) -> None:
    """NOTIFYs `channel` at commit: wakes the idle workers listening on it instead of
    letting them find the job at their next poll."""
    session.execute(sa.select(sa.func.pg_notify(channel, "")))


class WorkSignal:
    """A worker's own LISTEN connection on a queue channel: wait() returns as soon as
    work is announced (or was announced while the worker was busy), or after `timeout`."""

    def __init__(self, database_url: str, channel: str):
        self._url = _libpq_url(database_url)
        self._channel = channel
        self._connection: psycopg.Connection | None = None

    def wait(self, timeout: float) -> bool:
        """Whether work was announced (False: the timeout passed, or the database could
        not be reached and the wait was a plain sleep)."""
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self._url, autocommit=True)
                self._connection.execute(f"LISTEN {self._channel}")
            return any(True for _ in self._connection.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error:
            log.warning("waiting for work failed; polling instead", exc_info=True)
            self._connection = None
            time.sleep(timeout)
            return False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class EventHub:
    """One LISTEN connection on a log's channel for the whole process, fanned out to its
    watchers.

    Watchers are asyncio tasks (the server's streams): a notification sets their
    asyncio.Event through their loop, so a waiting watcher holds no thread.
    """

    def __init__(self, database_url: str, channel: str):
        self._url = _libpq_url(database_url)
        self._channel = channel
        self._waiters: dict[str, set[Callable[[], None]]] = defaultdict(set)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._listen, name=f"event-hub-{channel}", daemon=True)
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
                    connection.execute(f"LISTEN {self._channel}")
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
    wake: asyncio.Event,
    after: int,
    poll_seconds: float = 5.0,
) -> AsyncIterator:
    """Yields the events after `after`, then new ones as they are announced, until
    `read_after` says nothing more will come. `read_after(seq)` returns (parsed events
    with `.sequence`, ended); the poll is a safety net should a notification be lost.
    The caller's cancellation (the client left) ends it."""
    last = after
    while True:
        wake.clear()  # before reading: an announcement during the read is not lost
        events, ended = await read_after(last)
        for event in events:
            yield event
            last = event.sequence
        if ended:
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass


def read_events(
    session: Session,
    log: EventLog,
    job_table,
    job_id: str,
    after: int,
    event_type,
    terminal_states: Collection[int],
    limit: int = READ_BATCH,
) -> tuple[list, bool]:
    """The job's events after `after` as `event_type` messages, and whether the job has
    ended with them: it is gone, or in a terminal state and these events reach the state
    change that put it there (a job queued again after a terminal state goes on).

    The state is read before the events: whatever it says, the events that led to it
    were committed with it, so they are in the read.
    """
    state = session.scalar(sa.select(job_table.state).where(job_table.id == job_id))
    payloads = log.after(session, job_id, after, limit)
    events = [event_type.FromString(payload) for payload in payloads]
    if state is None:
        return events, True
    if state not in terminal_states:
        return events, False
    if not events:
        return [], True  # the caller has seen the terminal state change already
    if len(payloads) == limit:
        return events, False  # more to read before the end can be known
    # The end is the last state change, when it is a terminal one.
    changes = [i for i, event in enumerate(events) if event.WhichOneof("event") == "state_change"]
    if changes and events[changes[-1]].state_change.state in terminal_states:
        return events[: changes[-1] + 1], True
    return events, False


async def watch(
    db: Database,
    hub: EventHub,
    log: EventLog,
    job_table,
    job_id: str,
    after: int,
    event_type,
    terminal_states: Collection[int],
) -> AsyncIterator:
    """The job's events after `after`, then live ones until it has ended (read_events);
    at once when the caller has already seen its end. The caller checks first that the
    job exists and is the tenant's. Reads run on the default executor, the wait on NOTIFY
    holds no thread."""

    def read_after(sequence: int) -> tuple[list, bool]:
        with db.transaction() as session:
            return read_events(session, log, job_table, job_id, sequence, event_type, terminal_states)

    async with hub.subscribe(job_id) as wake:
        async for event in follow(lambda sequence: asyncio.to_thread(read_after, sequence), wake, after):
            yield event
