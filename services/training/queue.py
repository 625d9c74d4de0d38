"""The job queue in PostgreSQL: workers claim dataset builds and runs with
SELECT … FOR UPDATE SKIP LOCKED, heartbeat while they work, and a job whose worker
stopped heartbeating is failed by whoever notices first (every service replica and
every worker looks), so no job stays BUILDING or RUNNING forever."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from services.training.events import announce_work, append_event
from services.training.jobs import finish_run
from services.training.resources import from_json, to_json
from services.training.rows import DatasetRow, RunRow
from tsforge.core.db import Database
from tsforge.core.timestamps import utc_now
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)


def heartbeat_seconds(lost_after_seconds: float) -> float:
    """How often a worker heartbeats: often enough that two missed beats are not a loss."""
    return min(2.0, lost_after_seconds / 3)


# How many of the fairest candidates a claim tries before it gives up (the others may
# be taken by other workers at the same moment).
CANDIDATES = 16


def next_jobs(session, limit: int = CANDIDATES) -> list[tuple[str, str]]:
    """The queued jobs a worker should take next, fairest first: builds and runs whose
    dataset is READY, ordered by how many jobs their tenant has running (fewest first),
    then by when the tenant last had a job started (longest ago, or never, first), then
    oldest first. Tenants take turns: one tenant's long queue cannot starve another's,
    with one worker or many."""
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


def claim_next(db: Database, worker_id: str) -> tuple[str, DatasetRow | RunRow] | None:
    """The fairest queued job (see next_jobs), now BUILDING or RUNNING and owned by
    `worker_id`: ("dataset", row) or ("run", row); None when there is nothing to do."""
    with db.transaction() as session:
        for kind, job_id in next_jobs(session):
            claimed = (
                _claim_dataset(session, job_id, worker_id)
                if kind == "dataset"
                else _claim_run(session, job_id, worker_id)
            )
            if claimed is not None:
                session.flush()
                session.expunge(claimed)
                return kind, claimed
    return None


def _claim_dataset(session, dataset_id: str, worker_id: str) -> DatasetRow | None:
    row = session.scalar(
        sa.select(DatasetRow)
        .where(DatasetRow.id == dataset_id, DatasetRow.state == tr.DATASET_STATE_QUEUED)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    stamp = utc_now()
    row.state, row.worker_id, row.attempt_count = tr.DATASET_STATE_BUILDING, worker_id, row.attempt_count + 1
    row.start_time = row.heartbeat_time = row.update_time = stamp
    session.flush()
    append_event(
        session,
        DatasetRow,
        row.id,
        tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_BUILDING)),
    )
    return row


def _claim_run(session, run_id: str, worker_id: str) -> RunRow | None:
    row = session.scalar(
        sa.select(RunRow)
        .where(RunRow.id == run_id, RunRow.state == tr.RUN_STATE_QUEUED)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    stamp = utc_now()
    row.state, row.worker_id, row.attempt_count = tr.RUN_STATE_RUNNING, worker_id, row.attempt_count + 1
    row.start_time = row.start_time or stamp
    row.heartbeat_time = row.update_time = stamp
    session.flush()
    append_event(session, RunRow, row.id, tr.RunEvent(state_change=tr.RunStateChange(state=tr.RUN_STATE_RUNNING)))
    return row


def heartbeat(db: Database, table, job_id: str, worker_id: str) -> bool:
    """Records that the worker is alive. Returns False when the job should stop: it
    was cancelled, deleted, or taken from this worker."""
    with db.transaction() as session:
        values = {"heartbeat_time": utc_now()}
        query = sa.update(table).where(table.id == job_id, table.worker_id == worker_id).values(**values)
        if table is RunRow:
            still = session.execute(query.returning(RunRow.cancel_requested, RunRow.state)).first()
            return still is not None and not still.cancel_requested and still.state == tr.RUN_STATE_RUNNING
        still = session.execute(query.returning(DatasetRow.state)).first()
        return still is not None and still.state == tr.DATASET_STATE_BUILDING


def fail_lost_jobs(db: Database, lost_after_seconds: float) -> int:
    """Fails builds and runs whose worker stopped heartbeating. Returns how many."""
    cutoff = utc_now() - timedelta(seconds=lost_after_seconds)
    count = 0
    with db.transaction() as session:
        runs = session.scalars(
            sa.select(RunRow)
            .where(RunRow.state == tr.RUN_STATE_RUNNING, RunRow.heartbeat_time < cutoff)
            .with_for_update(skip_locked=True)
        ).all()
        for row in runs:
            finish_run(
                session,
                row,
                tr.RUN_STATE_FAILED,
                f"worker lost: {row.worker_id} stopped heartbeating at {row.heartbeat_time:%H:%M:%S} UTC",
            )
            count += 1
        datasets = session.scalars(
            sa.select(DatasetRow)
            .where(DatasetRow.state == tr.DATASET_STATE_BUILDING, DatasetRow.heartbeat_time < cutoff)
            .with_for_update(skip_locked=True)
        ).all()
        for row in datasets:
            fail_dataset(session, row, f"worker lost: {row.worker_id} stopped heartbeating")
            count += 1
    if count:
        log.warning("failed %d jobs whose worker was lost", count)
    return count


def fail_dataset(session, row: DatasetRow, reason: str) -> None:
    """Marks a build FAILED, and fails the runs that were waiting for it."""
    row.state, row.failure_reason = tr.DATASET_STATE_FAILED, reason
    row.end_time = row.update_time = utc_now()
    session.flush()
    append_event(
        session,
        DatasetRow,
        row.id,
        tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_FAILED, reason=reason)),
    )
    waiting = session.scalars(
        sa.select(RunRow).where(RunRow.dataset_id == row.id, RunRow.state == tr.RUN_STATE_QUEUED)
    ).all()
    for run in waiting:
        finish_run(session, run, tr.RUN_STATE_FAILED, f"its dataset failed to build: {reason}")


def complete_dataset(db: Database, dataset_id: str, worker_id: str, result: tr.Dataset) -> bool:
    """Stores a finished build's results and marks it READY (if this worker still owns it)."""
    with db.transaction() as session:
        row = session.scalar(
            sa.select(DatasetRow)
            .where(DatasetRow.id == dataset_id, DatasetRow.worker_id == worker_id)
            .with_for_update()
        )
        if row is None or row.state != tr.DATASET_STATE_BUILDING:
            return False
        document = from_json(row.document, tr.Dataset)
        document.MergeFrom(result)
        row.document = to_json(document)
        row.state = tr.DATASET_STATE_READY
        row.end_time = row.update_time = utc_now()
        session.flush()
        append_event(
            session,
            DatasetRow,
            row.id,
            tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_READY)),
        )
        announce_work(session)  # runs may be waiting for this dataset
        return True
