"""The shared job event log (tsforge.core.events) on a scratch job table of its own:
numbered events, where a watch ends, and live following woken by NOTIFY."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tsforge.core import events
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

SCHEMA = "core_events_test"
QUEUED, COMPUTING = er.EVALUATION_STATE_QUEUED, er.EVALUATION_STATE_COMPUTING
READY, FAILED = er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED
TERMINAL = (READY, FAILED)


class Base(DeclarativeBase):
    metadata = sa.MetaData(schema=SCHEMA)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(primary_key=True)
    state: Mapped[int]
    last_event_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Event(Base):
    __tablename__ = "events"
    job_id: Mapped[str] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)


LOG = events.EventLog(Event, "tsforge_core_events_test")


@pytest.fixture(scope="module")
def tables(db) -> Iterator[None]:
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        Base.metadata.create_all(connection)
    yield
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))


def new_job(db) -> str:
    job_id = uuid.uuid4().hex
    with db.transaction() as session:
        session.add(Job(id=job_id, state=QUEUED))
    return job_id


def change(db, job_id: str, state: int) -> int:
    with db.transaction() as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(state=state))
        event = er.EvaluationEvent(state_change=er.EvaluationStateChange(state=state))
        return LOG.append(session, Job, job_id, event)


def progress(db, job_id: str, done: int) -> int:
    with db.transaction() as session:
        return LOG.append(session, Job, job_id, er.EvaluationEvent(progress=er.EvaluationProgress(done=done)))


def read(db, job_id: str, after: int, limit: int = events.READ_BATCH) -> tuple[list[int], bool]:
    with db.transaction() as session:
        found, ended = events.read_events(session, LOG, Job, job_id, after, er.EvaluationEvent, TERMINAL, limit)
    return [e.sequence for e in found], ended


def test_events_are_numbered_per_job_and_read_after_a_sequence(db, tables):
    first, second = new_job(db), new_job(db)
    assert [change(db, first, QUEUED), progress(db, first, 1), change(db, second, QUEUED)] == [1, 2, 1]
    assert read(db, first, 0) == ([1, 2], False)
    assert read(db, first, 1) == ([2], False)
    assert read(db, first, 2) == ([], False)  # not ended: more will come


def test_a_watch_ends_with_the_state_change_into_a_terminal_state(db, tables):
    job = new_job(db)
    change(db, job, COMPUTING)
    progress(db, job, 1)
    change(db, job, FAILED)
    assert read(db, job, 0) == ([1, 2, 3], True)
    assert read(db, job, 3) == ([], True)  # the caller saw the end already
    # Something written after the end (a lost worker waking up) is not part of it...
    progress(db, job, 2)
    assert read(db, job, 0) == ([1, 2, 3], True)
    # ...but a job queued again goes on past its old end, to its new one.
    change(db, job, QUEUED)
    assert read(db, job, 0) == ([1, 2, 3, 4, 5], False)
    change(db, job, READY)
    assert read(db, job, 0) == ([1, 2, 3, 4, 5, 6], True)
    assert read(db, job, 3) == ([4, 5, 6], True)
    # A full batch cannot tell where the end is: the next read does.
    assert read(db, job, 0, limit=6) == ([1, 2, 3, 4, 5, 6], False)
    assert read(db, job, 6) == ([], True)


def test_a_job_that_is_gone_ends_its_watch(db, tables):
    assert read(db, uuid.uuid4().hex, 0) == ([], True)


def test_watch_replays_then_follows_live_woken_by_notify(db, database_url, tables):
    job = new_job(db)
    change(db, job, QUEUED)
    hub = events.EventHub(database_url, LOG.channel)

    async def scenario() -> list[int]:
        seen: list[int] = []
        watching = events.watch(db, hub, LOG, Job, job, 0, er.EvaluationEvent, TERMINAL)
        seen.append((await anext(watching)).sequence)  # replayed
        rest = asyncio.ensure_future(_collect(watching))
        await asyncio.sleep(0.3)  # the watcher now waits on the hub
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.to_thread(change, db, job, COMPUTING)
        await asyncio.to_thread(change, db, job, READY)
        seen += await asyncio.wait_for(rest, timeout=10)
        # Woken by NOTIFY, not by the 5 s safety poll.
        assert loop.time() - started < 3
        return seen

    try:
        assert asyncio.run(scenario()) == [1, 2, 3]
    finally:
        hub.stop()


async def _collect(iterator) -> list[int]:
    return [event.sequence async for event in iterator]
