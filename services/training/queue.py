"""The job queue in PostgreSQL: workers claim dataset builds and runs with
SELECT … FOR UPDATE SKIP LOCKED, heartbeat while they work, and a job whose worker
stopped heartbeating is failed by whoever notices first (every service replica and
every worker looks), so no job stays BUILDING or RUNNING forever."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

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


def claim_dataset(db: Database, worker_id: str) -> DatasetRow | None:
    """The oldest QUEUED dataset build, now BUILDING and owned by `worker_id`."""
    with db.transaction() as session:
        row = session.scalar(
            sa.select(DatasetRow)
            .where(DatasetRow.state == tr.DATASET_STATE_QUEUED)
            .order_by(DatasetRow.create_time)
            .limit(1)
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
        session.expunge(row)
        return row


def claim_run(db: Database, worker_id: str) -> RunRow | None:
    """The oldest QUEUED run whose dataset is READY, now RUNNING and owned by `worker_id`."""
    with db.transaction() as session:
        row = session.scalar(
            sa.select(RunRow)
            .join(DatasetRow, DatasetRow.id == RunRow.dataset_id)
            .where(RunRow.state == tr.RUN_STATE_QUEUED, DatasetRow.state == tr.DATASET_STATE_READY)
            .order_by(RunRow.create_time)
            .limit(1)
            .with_for_update(of=RunRow, skip_locked=True)
        )
        if row is None:
            return None
        stamp = utc_now()
        row.state, row.worker_id, row.attempt_count = tr.RUN_STATE_RUNNING, worker_id, row.attempt_count + 1
        row.start_time = row.start_time or stamp
        row.heartbeat_time = row.update_time = stamp
        session.flush()
        append_event(session, RunRow, row.id, tr.RunEvent(state_change=tr.RunStateChange(state=tr.RUN_STATE_RUNNING)))
        session.expunge(row)
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
