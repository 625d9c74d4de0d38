"""The evaluation schema (created by migrations/): mappings and the queries on them.

Evaluations are rows; each metric table is a row holding the MetricTable message as
proto3 JSON, read one table at a time.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from google.protobuf import json_format
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tsforge.core.db import newest_first
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

SCHEMA = "evaluation"


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


def insert_if_absent(session: Session, row: dict) -> bool:
    """Inserts the evaluation unless one with its identity exists; whether it did."""
    inserted = session.execute(
        insert(EvaluationRow)
        .values(**row)
        .on_conflict_do_nothing(index_elements=list(IDENTITY))
        .returning(EvaluationRow.id)
    )
    return inserted.first() is not None


def claim_stale(session: Session, evaluation_id: str, seen_update_time: datetime, now: datetime) -> bool:
    """Takes over a COMPUTING evaluation whose computer stopped, if nobody else did."""
    result = session.execute(
        sa.update(EvaluationRow)
        .where(
            EvaluationRow.id == evaluation_id,
            EvaluationRow.update_time == seen_update_time,
        )
        .values(update_time=now)
    )
    return result.rowcount == 1


def finish(
    session: Session,
    evaluation_id: str,
    state: int,
    failure_reason: str,
    document: dict,
    tables: list[er.MetricTable],
    now: datetime,
) -> None:
    session.execute(
        sa.update(EvaluationRow)
        .where(EvaluationRow.id == evaluation_id)
        .values(state=state, failure_reason=failure_reason, document=document, update_time=now)
    )
    session.add_all(
        MetricTableRow(
            evaluation_id=evaluation_id,
            kind=table.kind,
            split=table.split,
            units=table.units,
            rank_metric=table.rank_metric,
            document=json_format.MessageToDict(table, preserving_proto_field_name=True),
        )
        for table in tables
    )


def delete(session: Session, evaluation_id: str) -> None:
    session.execute(sa.delete(EvaluationRow).where(EvaluationRow.id == evaluation_id))


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
