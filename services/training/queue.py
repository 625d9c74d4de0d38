"""The job queue in PostgreSQL: workers claim dataset builds and runs with
SELECT … FOR UPDATE SKIP LOCKED, heartbeat while they work, and a job whose worker
stopped heartbeating is failed by whoever notices first (every service replica and
every worker looks), so no job stays BUILDING or RUNNING forever."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.training import repository as repo
from services.training.job_objects import JobObjects, dataset_prefix, model_prefix, run_prefix
from services.training.jobs import finish_run
from services.training.messages import from_json, to_json
from services.training.rows import DatasetRow, RunRow
from tsforge.core.db import Database
from tsforge.core.storage import ObjectStore
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
    """The queued jobs a worker should take next, fairest first (repository.next_jobs)."""
    return repo.next_jobs(session, limit)


def claim_next(db: Database, worker_id: str) -> tuple[str, DatasetRow | RunRow] | None:
    """The fairest queued job (see next_jobs), now BUILDING or RUNNING and owned by
    `worker_id`: ("dataset", row) or ("run", row); None when there is nothing to do."""
    with db.transaction() as session:
        for kind, job_id in next_jobs(session):
            row = repo.lock_queued(session, kind, job_id)
            if row is None:
                continue
            stamp = utc_now()
            event: tr.DatasetBuildEvent | tr.RunEvent
            if isinstance(row, DatasetRow):
                repo.update_dataset(
                    session,
                    row,
                    state=tr.DATASET_STATE_BUILDING,
                    worker_id=worker_id,
                    attempt_count=row.attempt_count + 1,
                    start_time=stamp,
                    heartbeat_time=stamp,
                    update_time=stamp,
                )
                event = tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_BUILDING))
            else:
                repo.update_run(
                    session,
                    row,
                    state=tr.RUN_STATE_RUNNING,
                    worker_id=worker_id,
                    attempt_count=row.attempt_count + 1,
                    start_time=row.start_time or stamp,
                    heartbeat_time=stamp,
                    update_time=stamp,
                )
                event = tr.RunEvent(state_change=tr.RunStateChange(state=tr.RUN_STATE_RUNNING))
            repo.append_event(session, kind, row.id, event)
            repo.detach(session, row)
            return kind, row
    return None


def heartbeat(db: Database, kind: str, job_id: str, worker_id: str) -> bool:
    """Records that the worker is alive. Returns False when the job should stop: it
    was cancelled, deleted, or taken from this worker."""
    with db.transaction() as session:
        still = repo.heartbeat(session, kind, job_id, worker_id, utc_now())
    if still is None:
        return False
    state, cancel_requested = still
    working = tr.RUN_STATE_RUNNING if kind == "run" else tr.DATASET_STATE_BUILDING
    return state == working and not cancel_requested


def fail_lost_jobs(db: Database, lost_after_seconds: float, store: ObjectStore | None = None) -> int:
    """Fails builds and runs whose worker stopped heartbeating. Returns how many.

    With `store`, also deletes what the lost worker was writing (a failed build's
    objects, the objects of a run's models that were RUNNING) and counts exactly what
    the failed jobs still store against the tenant's quota.
    """
    cutoff = utc_now() - timedelta(seconds=lost_after_seconds)
    count = 0
    lost: list[tuple[str, str, str, list[str]]] = []  # kind, tenant, id, partial prefixes
    with db.transaction() as session:
        for row in repo.lost_runs(session, cutoff):
            running = [
                model_prefix(row.tenant, model.name)
                for model in (from_json(m, tr.ModelResult) for m in row.models)
                if model.state == tr.MODEL_STATE_RUNNING
            ]
            lost.append(("run", row.tenant, row.id, running))
            finish_run(
                session,
                row,
                tr.RUN_STATE_FAILED,
                f"worker lost: {row.worker_id} stopped heartbeating at {row.heartbeat_time:%H:%M:%S} UTC",
            )
            count += 1
        for build in repo.lost_builds(session, cutoff):
            lost.append(("dataset", build.tenant, build.id, [dataset_prefix(build.tenant, build.id)]))
            fail_dataset(session, build, f"worker lost: {build.worker_id} stopped heartbeating")
            count += 1
    if count:
        log.warning("failed %d jobs whose worker was lost", count)
    if store is not None:
        for kind, tenant, job_id, partial in lost:
            prefix = dataset_prefix(tenant, job_id) if kind == "dataset" else run_prefix(tenant, job_id)
            try:
                JobObjects(db, store, 0, kind, tenant, job_id).settle(prefix, partial)
            except Exception:  # the next look at the session's bytes is its deletion
                log.warning("could not clean up after lost job %s", job_id, exc_info=True)
    return count


def fail_dataset(session, row: DatasetRow, reason: str) -> None:
    """Marks a build FAILED, and fails the runs that were waiting for it."""
    stamp = utc_now()
    repo.update_dataset(
        session, row, state=tr.DATASET_STATE_FAILED, failure_reason=reason, end_time=stamp, update_time=stamp
    )
    repo.append_event(
        session,
        "dataset",
        row.id,
        tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_FAILED, reason=reason)),
    )
    for run in repo.queued_runs_of(session, row.id):
        finish_run(session, run, tr.RUN_STATE_FAILED, f"its dataset failed to build: {reason}")


def complete_dataset(db: Database, dataset_id: str, worker_id: str, result: tr.Dataset) -> bool:
    """Stores a finished build's results and marks it READY (if this worker still owns it)."""
    with db.transaction() as session:
        row = repo.lock_dataset(session, dataset_id, worker_id)
        if row is None or row.state != tr.DATASET_STATE_BUILDING:
            return False
        document = from_json(row.document, tr.Dataset)
        document.MergeFrom(result)
        stamp = utc_now()
        repo.update_dataset(
            session, row, document=to_json(document), state=tr.DATASET_STATE_READY, end_time=stamp, update_time=stamp
        )
        repo.append_event(
            session,
            "dataset",
            row.id,
            tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_READY)),
        )
        repo.announce_work(session)  # runs may be waiting for this dataset
        return True
