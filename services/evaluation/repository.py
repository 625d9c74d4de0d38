"""The evaluation schema (created by migrations/): mappings and the queries on them.

Evaluations are rows, and jobs: QUEUED until a worker claims one, COMPUTING while the
worker owns it (worker_id and attempt_count say which claim, heartbeat_time that it is
alive), then READY or FAILED. Their progress events are a log (tsforge.core.events) in
evaluation_events. Each metric table is a row holding the MetricTable message as proto3
JSON, read one table at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from google.protobuf import json_format
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column

from tsforge.core import events
from tsforge.core.db import newest_first
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

SCHEMA = "evaluation"
EVENT_CHANNEL = "tsforge_evaluation_events"
# Announced when an evaluation is queued: idle workers claim it at once.
QUEUE_CHANNEL = "tsforge_evaluation_queue"
UNFINISHED = (er.EVALUATION_STATE_QUEUED, er.EVALUATION_STATE_COMPUTING)
TERMINAL = (er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED)
# How many of the fairest candidates a claim tries (others may take some meanwhile).
CANDIDATES = 16


class Base(DeclarativeBase):
    metadata = sa.MetaData(schema=SCHEMA)


class EvaluationRow(Base):
    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    run_id: Mapped[str]
    model: Mapped[str]
    season_steps: Mapped[int]
    infer_season: Mapped[bool]
    seasons: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer))
    baseline_metric: Mapped[int] = mapped_column(sa.SmallInteger)
    method_version: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[int] = mapped_column(sa.SmallInteger)
    failure_reason: Mapped[str] = mapped_column(default="")
    document: Mapped[dict] = mapped_column(JSONB)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # The job (migration 0003).
    attempt_count: Mapped[int] = mapped_column(default=0)
    last_event_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    worker_id: Mapped[str] = mapped_column(default="")
    heartbeat_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    start_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    failure_retryable: Mapped[bool] = mapped_column(default=False)


class EvaluationEventRow(Base):
    __tablename__ = "evaluation_events"

    job_id: Mapped[str] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)


EVENTS = events.EventLog(EvaluationEventRow, EVENT_CHANNEL)


@dataclass(frozen=True)
class Claim:
    """One worker's hold on a COMPUTING evaluation: its row as claimed, and which claim
    it is (a claim taken over by someone else no longer writes)."""

    row: EvaluationRow
    worker_id: str
    attempt: int

    @property
    def evaluation_id(self) -> str:
        return self.row.id


class MetricTableRow(Base):
    __tablename__ = "metric_tables"

    evaluation_id: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    split: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    units: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    rank_metric: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    document: Mapped[dict] = mapped_column(JSONB)


def get(session: Session, tenant: str, evaluation_id: str) -> EvaluationRow | None:
    return session.scalar(
        sa.select(EvaluationRow).where(EvaluationRow.id == evaluation_id, EvaluationRow.tenant == tenant)
    )


# With the tenant, what makes an evaluation (migrations 0001 and 0002: a unique index).
IDENTITY = (
    "tenant",
    "run_id",
    "model",
    "season_steps",
    "infer_season",
    "seasons",
    "baseline_metric",
    "method_version",
)


def find(session: Session, identity: dict) -> EvaluationRow | None:
    """The evaluation with this identity (a value for every IDENTITY column), or None."""
    return session.scalar(
        sa.select(EvaluationRow).where(*(getattr(EvaluationRow, column) == identity[column] for column in IDENTITY))
    )


def append_event(session: Session, evaluation_id: str, event: er.EvaluationEvent) -> int:
    """Adds the event to the evaluation's log (NOTIFY at commit); its sequence number."""
    return EVENTS.append(session, EvaluationRow, evaluation_id, event)


def state_change(session: Session, evaluation_id: str, state: int, reason: str = "") -> None:
    append_event(
        session,
        evaluation_id,
        er.EvaluationEvent(state_change=er.EvaluationStateChange(state=state, reason=reason)),
    )


def announce_work(session: Session) -> None:
    events.announce(session, QUEUE_CHANNEL)


def queue(session: Session, row: dict) -> EvaluationRow | None:
    """Inserts a QUEUED evaluation with its first event, unless one with its identity
    exists (waiting for a concurrent insert of it to commit); the new row, or None."""
    inserted = session.execute(
        insert(EvaluationRow)
        .values(**row, state=er.EVALUATION_STATE_QUEUED)
        .on_conflict_do_nothing(index_elements=list(IDENTITY))
        .returning(EvaluationRow.id)
    ).first()
    if inserted is None:
        return None
    state_change(session, row["id"], er.EVALUATION_STATE_QUEUED)
    announce_work(session)
    return get(session, row["tenant"], row["id"])


def queue_again(session: Session, evaluation_id: str, now: datetime) -> bool:
    """Queues a FAILED evaluation whose failure may pass, if it still is one."""
    done = session.execute(
        sa.update(EvaluationRow)
        .where(
            EvaluationRow.id == evaluation_id,
            EvaluationRow.state == er.EVALUATION_STATE_FAILED,
            EvaluationRow.failure_retryable,
        )
        .values(
            state=er.EVALUATION_STATE_QUEUED,
            failure_reason="",
            failure_retryable=False,
            worker_id="",
            attempt_count=0,
            end_time=None,
            update_time=now,
        )
        .returning(EvaluationRow.id)
    ).first()
    if done is None:
        return False
    state_change(session, evaluation_id, er.EVALUATION_STATE_QUEUED, "asked for again after a passing failure")
    announce_work(session)
    return True


def claim_next(session: Session, worker_id: str, now: datetime) -> Claim | None:
    """The fairest QUEUED evaluation, now COMPUTING and owned by `worker_id`, or None.

    Fairest: of the tenant with the fewest evaluations computing, then the oldest. Rows
    another worker is claiming at the same moment are skipped (SKIP LOCKED).
    """
    running = aliased(EvaluationRow)
    computing = (
        sa.select(sa.func.count())
        .where(running.tenant == EvaluationRow.tenant, running.state == er.EVALUATION_STATE_COMPUTING)
        .scalar_subquery()
    )
    candidates = session.scalars(
        sa.select(EvaluationRow.id)
        .where(EvaluationRow.state == er.EVALUATION_STATE_QUEUED)
        .order_by(computing, EvaluationRow.create_time)
        .limit(CANDIDATES)
    ).all()
    for evaluation_id in candidates:
        row = session.scalar(
            sa.select(EvaluationRow)
            .where(EvaluationRow.id == evaluation_id, EvaluationRow.state == er.EVALUATION_STATE_QUEUED)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            continue
        row.state, row.worker_id, row.attempt_count = er.EVALUATION_STATE_COMPUTING, worker_id, row.attempt_count + 1
        row.start_time = row.heartbeat_time = row.update_time = now
        session.flush()
        state_change(session, row.id, er.EVALUATION_STATE_COMPUTING)
        session.flush()
        session.expunge(row)
        return Claim(row, worker_id, row.attempt_count)
    return None


def _owned(claim: Claim):
    return (
        EvaluationRow.id == claim.evaluation_id,
        EvaluationRow.worker_id == claim.worker_id,
        EvaluationRow.attempt_count == claim.attempt,
        EvaluationRow.state == er.EVALUATION_STATE_COMPUTING,
    )


def lock_owned(session: Session, claim: Claim) -> bool:
    """Locks the evaluation if the claim still holds it (for a write in this transaction)."""
    return session.scalar(sa.select(EvaluationRow.id).where(*_owned(claim)).with_for_update()) is not None


def heartbeat(session: Session, claims: list[Claim], now: datetime) -> set[str]:
    """Records that the claims' worker is alive; the ids of the evaluations they still hold."""
    held = set()
    for claim in claims:
        beaten = session.execute(
            sa.update(EvaluationRow).where(*_owned(claim)).values(heartbeat_time=now).returning(EvaluationRow.id)
        ).first()
        if beaten is not None:
            held.add(claim.evaluation_id)
    return held


def finish(
    session: Session,
    claim: Claim,
    state: int,
    failure_reason: str,
    document: dict,
    tables: list[er.MetricTable],
    now: datetime,
    retryable: bool = False,
) -> bool:
    """Stores the claim's result and its closing event, if the claim still holds the
    evaluation; whether it did."""
    done = session.execute(
        sa.update(EvaluationRow)
        .where(*_owned(claim))
        .values(
            state=state,
            failure_reason=failure_reason,
            failure_retryable=retryable,
            document=document,
            worker_id="",
            end_time=now,
            update_time=now,
        )
        .returning(EvaluationRow.id)
    ).first()
    if done is None:
        return False
    session.add_all(
        MetricTableRow(
            evaluation_id=claim.evaluation_id,
            kind=table.kind,
            split=table.split,
            units=table.units,
            rank_metric=table.rank_metric,
            document=json_format.MessageToDict(table, preserving_proto_field_name=True),
        )
        for table in tables
    )
    state_change(session, claim.evaluation_id, state, failure_reason)
    return True


def release(session: Session, claim: Claim, reason: str, now: datetime) -> bool:
    """Queues the claim's evaluation again for another worker (this one stops)."""
    done = session.execute(
        sa.update(EvaluationRow)
        .where(*_owned(claim))
        .values(state=er.EVALUATION_STATE_QUEUED, worker_id="", update_time=now)
        .returning(EvaluationRow.id)
    ).first()
    if done is None:
        return False
    state_change(session, claim.evaluation_id, er.EVALUATION_STATE_QUEUED, reason)
    announce_work(session)
    return True


def requeue_lost(session: Session, cutoff: datetime, legacy_cutoff: datetime, max_attempts: int, now: datetime) -> int:
    """Queues again the COMPUTING evaluations whose worker stopped heartbeating before
    `cutoff` (FAILED, retryable, after `max_attempts` claims); rows computed by a
    tsforge before evaluations were jobs (no heartbeat) count as lost after
    `legacy_cutoff`. Returns how many."""
    lost = session.scalars(
        sa.select(EvaluationRow)
        .where(
            EvaluationRow.state == er.EVALUATION_STATE_COMPUTING,
            sa.or_(
                EvaluationRow.heartbeat_time < cutoff,
                sa.and_(EvaluationRow.heartbeat_time.is_(None), EvaluationRow.update_time < legacy_cutoff),
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for row in lost:
        since = f" at {row.heartbeat_time:%H:%M:%S} UTC" if row.heartbeat_time else ""
        reason = f"worker lost: {row.worker_id or 'a worker'} stopped heartbeating{since}"
        row.worker_id, row.update_time = "", now
        if row.attempt_count >= max_attempts:
            row.state, row.end_time = er.EVALUATION_STATE_FAILED, now
            row.failure_reason = f"{reason}, after {row.attempt_count} attempts"
            row.failure_retryable = True
            session.flush()
            state_change(session, row.id, row.state, row.failure_reason)
        else:
            row.state = er.EVALUATION_STATE_QUEUED
            session.flush()
            state_change(session, row.id, row.state, f"{reason}; queued again")
    if lost:
        announce_work(session)
    return len(lost)


def list_page(session: Session, tenant: str, run_id: str, limit: int, after: tuple | None) -> list[EvaluationRow]:
    query = sa.select(EvaluationRow).where(EvaluationRow.tenant == tenant)
    if run_id:
        query = query.where(EvaluationRow.run_id == run_id)
    return list(session.scalars(newest_first(query, EvaluationRow, limit, after)))


def tables(
    session: Session,
    evaluation_id: str,
    kind: int,
    split: int | None = None,
    units: int | None = None,
    rank_metric: int = 0,
) -> list[er.MetricTable]:
    """The evaluation's tables of one kind (and split and units, when given), ordered by
    split then units."""
    query = sa.select(MetricTableRow.document).where(
        MetricTableRow.evaluation_id == evaluation_id,
        MetricTableRow.kind == kind,
        MetricTableRow.rank_metric == rank_metric,
    )
    if split is not None:
        query = query.where(MetricTableRow.split == split)
    if units is not None:
        query = query.where(MetricTableRow.units == units)
    query = query.order_by(MetricTableRow.split.desc(), MetricTableRow.units)
    return [json_format.ParseDict(document, er.MetricTable()) for document in session.scalars(query)]
