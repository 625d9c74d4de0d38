"""Queries of the training schema: sessions, dataset builds, runs and their event log.
The only module of the training service with SQL.

Every function runs in the caller's transaction (a Session from Database.transaction),
so a domain operation that reads, checks and writes stays one transaction. Every
query that reads a resource for an API call filters by tenant: another tenant's
session, dataset or run is simply not found. Rows come back as the mappings of rows.py;
they change only through the update functions here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import datetime
from typing import cast

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Session

from services.training import events as channels
from services.training.rows import DatasetRow, EventRow, RunRow, SessionRow
from tsforge.core import events, usage
from tsforge.core.db import Database, newest_first
from tsforge.core.errors import NotFound
from tsforge.training.v1 import training_resources_pb2 as tr

ACTIVE_RUN_STATES = (tr.RUN_STATE_QUEUED, tr.RUN_STATE_RUNNING)
ACTIVE_BUILD_STATES = (tr.DATASET_STATE_QUEUED, tr.DATASET_STATE_BUILDING)
_TABLES: dict[str, type[DatasetRow] | type[RunRow]] = {"dataset": DatasetRow, "run": RunRow}


def _update(session: Session, row, values: dict) -> None:
    for column, value in values.items():
        setattr(row, column, value)
    session.flush()


def _find(session: Session, query, name: str, lock: bool):
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(name)
    return row


def _lock_tenant(session: Session, what: str, tenant: str) -> None:
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"{what}:{tenant}"))))


# -- events and work announcements ---------------------------------------------------


def append_event(session: Session, kind: str, job_id: str, event) -> int:
    """Adds `event` (a DatasetBuildEvent of a "dataset", a RunEvent of a "run"; sequence
    and time are set here) to the job's log. Returns its sequence number."""
    return channels.LOG.append(session, _TABLES[kind], job_id, event)


def announce_work(session: Session) -> None:
    """Wakes idle workers (at commit) instead of letting them find the job at their next poll."""
    events.announce(session, channels.QUEUE_CHANNEL)


def follow_events(
    db: Database, hub: events.EventHub, kind: str, job_id: str, after: int, event_type, terminal: Collection[int]
) -> AsyncIterator:
    """The job's events after `after`, then live ones until it reaches a terminal state."""
    return events.watch(db, hub, channels.LOG, _TABLES[kind], job_id, after, event_type, terminal)


# -- sessions ------------------------------------------------------------------------


def insert_session(session: Session, row: SessionRow) -> None:
    session.add(row)
    session.flush()


def find_session(session: Session, tenant: str, session_id: str, lock: bool = False) -> SessionRow:
    """The tenant's session, FOR UPDATE when `lock`. Raises NotFound (also another tenant's)."""
    query = sa.select(SessionRow).where(SessionRow.tenant == tenant, SessionRow.id == session_id)
    return _find(session, query, f"sessions/{session_id}", lock)


def list_sessions(session: Session, tenant: str, limit: int, after: tuple[datetime, str] | None) -> list[SessionRow]:
    query = sa.select(SessionRow).where(SessionRow.tenant == tenant)
    return list(session.scalars(newest_first(query, SessionRow, limit, after)))


def latest_dataset_id(session: Session, session_id: str) -> str | None:
    """The id of the session's newest dataset, or None."""
    return session.scalar(
        sa.select(DatasetRow.id)
        .where(DatasetRow.session_id == session_id)
        .order_by(DatasetRow.create_time.desc())
        .limit(1)
    )


def update_session(session: Session, row: SessionRow, **values) -> None:
    _update(session, row, values)


def lock_session_jobs(session: Session, session_id: str) -> tuple[list[RunRow], list[str]]:
    """The session's runs and the ids of its datasets, locked in that order (the order a worker that
    updates a run twice in one transaction takes them: it re-checks the run's foreign
    key on the session, FOR KEY SHARE; locking the session first would deadlock)."""
    runs = session.scalars(
        sa.select(RunRow).where(RunRow.session_id == session_id).order_by(RunRow.id).with_for_update()
    )
    datasets = session.scalars(
        sa.select(DatasetRow.id).where(DatasetRow.session_id == session_id).order_by(DatasetRow.id).with_for_update()
    )
    return list(runs), list(datasets)


def delete_session(session: Session, row: SessionRow, job_ids: list[str]) -> None:
    """Deletes the session (its datasets and runs cascade) and the jobs' events."""
    session.delete(row)
    session.execute(sa.delete(EventRow).where(EventRow.job_id.in_(job_ids)))


# -- datasets ------------------------------------------------------------------------


def count_active_builds(session: Session, tenant: str) -> int:
    """The tenant's QUEUED and BUILDING datasets, counted under the tenant's build lock
    (held until the transaction ends, so two builds cannot both take the last place)."""
    _lock_tenant(session, "builds", tenant)
    query = (
        sa.select(sa.func.count())
        .select_from(DatasetRow)
        .where(DatasetRow.tenant == tenant, DatasetRow.state.in_(ACTIVE_BUILD_STATES))
    )
    return int(session.scalar(query) or 0)


def insert_dataset(session: Session, row: DatasetRow) -> None:
    session.add(row)
    session.flush()


def find_dataset(session: Session, tenant: str, session_id: str, dataset_id: str) -> DatasetRow:
    """The tenant's dataset of the session. Raises NotFound (also another tenant's)."""
    query = sa.select(DatasetRow).where(
        DatasetRow.tenant == tenant, DatasetRow.session_id == session_id, DatasetRow.id == dataset_id
    )
    return _find(session, query, f"sessions/{session_id}/datasets/{dataset_id}", lock=False)


def list_datasets(
    session: Session, tenant: str, session_id: str, limit: int, after: tuple[datetime, str] | None
) -> list[DatasetRow]:
    query = sa.select(DatasetRow).where(DatasetRow.tenant == tenant, DatasetRow.session_id == session_id)
    return list(session.scalars(newest_first(query, DatasetRow, limit, after)))


def lock_dataset(session: Session, dataset_id: str, worker_id: str | None = None) -> DatasetRow | None:
    """The dataset FOR UPDATE (only while `worker_id` owns it, when given), or None."""
    query = sa.select(DatasetRow).where(DatasetRow.id == dataset_id)
    if worker_id is not None:
        query = query.where(DatasetRow.worker_id == worker_id)
    return session.scalar(query.with_for_update())


def update_dataset(session: Session, row: DatasetRow, **values) -> None:
    _update(session, row, values)


# -- runs ----------------------------------------------------------------------------


def count_active_runs(session: Session, tenant: str) -> int:
    """The tenant's QUEUED and RUNNING runs, counted under the tenant's run lock."""
    _lock_tenant(session, "runs", tenant)
    query = (
        sa.select(sa.func.count())
        .select_from(RunRow)
        .where(RunRow.tenant == tenant, RunRow.state.in_(ACTIVE_RUN_STATES))
    )
    return int(session.scalar(query) or 0)


def insert_run(session: Session, row: RunRow) -> None:
    session.add(row)
    session.flush()


def find_run(session: Session, tenant: str, run_id: str, lock: bool = False) -> RunRow:
    """The tenant's run, FOR UPDATE when `lock`. Raises NotFound (also another tenant's)."""
    query = sa.select(RunRow).where(RunRow.tenant == tenant, RunRow.id == run_id)
    return _find(session, query, f"runs/{run_id}", lock)


def list_runs(
    session: Session,
    tenant: str,
    limit: int,
    after: tuple[datetime, str] | None,
    session_id: str = "",
    state: int = 0,
) -> list[RunRow]:
    """A page of the tenant's runs, of one session and in one state when given."""
    query = sa.select(RunRow).where(RunRow.tenant == tenant)
    if session_id:
        query = query.where(RunRow.session_id == session_id)
    if state:
        query = query.where(RunRow.state == state)
    return list(session.scalars(newest_first(query, RunRow, limit, after)))


def lock_run(session: Session, run_id: str) -> RunRow | None:
    """The run FOR UPDATE, or None when it was deleted."""
    return session.scalar(sa.select(RunRow).where(RunRow.id == run_id).with_for_update())


def queued_runs_of(session: Session, dataset_id: str) -> list[RunRow]:
    """The QUEUED runs that wait for the dataset."""
    return list(
        session.scalars(sa.select(RunRow).where(RunRow.dataset_id == dataset_id, RunRow.state == tr.RUN_STATE_QUEUED))
    )


def update_run(session: Session, row: RunRow, **values) -> None:
    _update(session, row, values)


# -- the queue -----------------------------------------------------------------------


def next_jobs(session: Session, limit: int) -> list[tuple[str, str]]:
    """The queued jobs a worker should take next, fairest first, as (kind, id): builds,
    and runs whose dataset is READY, ordered by how many jobs their tenant has running
    (fewest first), then by when the tenant last had a job started (longest ago, or
    never, first), then oldest first. Tenants take turns: one tenant's long queue
    cannot starve another's, with one worker or many."""
    started = sa.union_all(
        sa.select(
            DatasetRow.tenant,
            (DatasetRow.state == tr.DATASET_STATE_BUILDING).label("running"),
            DatasetRow.start_time,
        ).where(DatasetRow.start_time.is_not(None)),
        sa.select(RunRow.tenant, (RunRow.state == tr.RUN_STATE_RUNNING).label("running"), RunRow.start_time).where(
            RunRow.start_time.is_not(None)
        ),
    ).subquery()
    load = (
        sa.select(
            started.c.tenant,
            sa.func.count().filter(started.c.running).label("jobs"),
            sa.func.max(started.c.start_time).label("last_start"),
        )
        .group_by(started.c.tenant)
        .subquery()
    )
    ready = sa.orm.aliased(DatasetRow)
    candidates = sa.union_all(
        sa.select(sa.literal("dataset").label("kind"), DatasetRow.id, DatasetRow.tenant, DatasetRow.create_time).where(
            DatasetRow.state == tr.DATASET_STATE_QUEUED
        ),
        sa.select(sa.literal("run").label("kind"), RunRow.id, RunRow.tenant, RunRow.create_time)
        .join(ready, ready.id == RunRow.dataset_id)
        .where(RunRow.state == tr.RUN_STATE_QUEUED, ready.state == tr.DATASET_STATE_READY),
    ).subquery()
    query = (
        sa.select(candidates.c.kind, candidates.c.id)
        .outerjoin(load, load.c.tenant == candidates.c.tenant)
        .order_by(sa.func.coalesce(load.c.jobs, 0), load.c.last_start.asc().nulls_first(), candidates.c.create_time)
        .limit(limit)
    )
    return [(kind, job_id) for kind, job_id in session.execute(query)]


def lock_queued(session: Session, kind: str, job_id: str) -> DatasetRow | RunRow | None:
    """The job FOR UPDATE while it is still QUEUED; None when it is not, or another
    worker holds it (SKIP LOCKED)."""
    table = _TABLES[kind]
    queued = tr.DATASET_STATE_QUEUED if kind == "dataset" else tr.RUN_STATE_QUEUED
    query = sa.select(table).where(table.id == job_id, table.state == queued).with_for_update(skip_locked=True)
    return cast("DatasetRow | RunRow | None", session.scalar(query))


def detach(session: Session, row) -> None:
    """Keeps `row`'s loaded columns readable after the transaction ends."""
    session.flush()
    session.expunge(row)


def heartbeat(session: Session, kind: str, job_id: str, worker_id: str, stamp: datetime) -> tuple[int, bool] | None:
    """Stamps the job's heartbeat if `worker_id` still owns it: its (state,
    cancel_requested), or None when the job was deleted or taken from the worker."""
    table = _TABLES[kind]
    query = sa.update(table).where(table.id == job_id, table.worker_id == worker_id).values(heartbeat_time=stamp)
    if table is RunRow:
        run = session.execute(query.returning(RunRow.state, RunRow.cancel_requested)).first()
        return None if run is None else (run.state, run.cancel_requested)
    build = session.execute(query.returning(DatasetRow.state)).first()
    return None if build is None else (build.state, False)


def lost_runs(session: Session, heartbeat_before: datetime) -> list[RunRow]:
    """RUNNING runs last heartbeaten before the cutoff, locked (SKIP LOCKED)."""
    query = sa.select(RunRow).where(RunRow.state == tr.RUN_STATE_RUNNING, RunRow.heartbeat_time < heartbeat_before)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def lost_builds(session: Session, heartbeat_before: datetime) -> list[DatasetRow]:
    """BUILDING datasets last heartbeaten before the cutoff, locked (SKIP LOCKED)."""
    query = sa.select(DatasetRow).where(
        DatasetRow.state == tr.DATASET_STATE_BUILDING, DatasetRow.heartbeat_time < heartbeat_before
    )
    return list(session.scalars(query.with_for_update(skip_locked=True)))


# -- stored bytes (the tenant's quota) -----------------------------------------------

USAGE_OWNER = "training"


def lock_usage(session: Session, tenant: str) -> None:
    """Serialises the byte-quota checks of `tenant`, across services, until the
    transaction ends (tsforge.core.usage.lock)."""
    usage.lock(session, tenant)


def used_bytes(session: Session, tenant: str) -> int:
    """What the tenant's datasets and runs take in the object store."""
    datasets = sa.select(sa.func.coalesce(sa.func.sum(DatasetRow.stored_bytes), 0)).where(DatasetRow.tenant == tenant)
    runs = sa.select(sa.func.coalesce(sa.func.sum(RunRow.stored_bytes), 0)).where(RunRow.tenant == tenant)
    return int(session.scalar(datasets) or 0) + int(session.scalar(runs) or 0)


def tenant_bytes(session: Session, tenant: str) -> int:
    """What counts against the tenant's quota: its datasets and runs here, plus what the
    other services store for it (files, unfinished uploads, registered versions)."""
    return used_bytes(session, tenant) + usage.others(session, tenant, USAGE_OWNER)


def add_stored_bytes(session: Session, kind: str, job_id: str, delta: int) -> bool:
    """Adds `delta` (negative: gives back) to the job's stored bytes, never below 0.
    Returns False when the job no longer exists (deleted with its session)."""
    table = _TABLES[kind]
    query = (
        sa.update(table)
        .where(table.id == job_id)
        .values(stored_bytes=sa.func.greatest(table.stored_bytes + delta, 0))
        .returning(table.id)
    )
    return session.execute(query).first() is not None


def clear_stored_bytes(session: Session, kind: str, job_id: str) -> None:
    """The job stores nothing (its objects were deleted)."""
    table = _TABLES[kind]
    session.execute(sa.update(table).where(table.id == job_id).values(stored_bytes=0))


def record_usage(session: Session, tenant: str) -> None:
    """Writes what training stores for the tenant into the shared byte ledger."""
    usage.record(session, tenant, USAGE_OWNER, used_bytes(session, tenant))
