"""SQLAlchemy mappings of the training schema (created by migrations/)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "training"


class Base(DeclarativeBase):
    metadata = sa.MetaData(schema=SCHEMA)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    display_name: Mapped[str]
    description: Mapped[str]
    spec: Mapped[dict] = mapped_column(JSONB)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class _Job:
    state: Mapped[int] = mapped_column(sa.SmallInteger)
    failure_reason: Mapped[str] = mapped_column(default="")
    attempt_count: Mapped[int] = mapped_column(default=0)
    last_event_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    worker_id: Mapped[str] = mapped_column(default="")
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    start_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    heartbeat_time: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Bytes the job's objects take in the store (counted against the tenant's quota).
    stored_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class DatasetRow(_Job, Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    session_id: Mapped[str]
    document: Mapped[dict] = mapped_column(JSONB)


class RunRow(_Job, Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    session_id: Mapped[str]
    dataset_id: Mapped[str]
    display_name: Mapped[str]
    models: Mapped[list] = mapped_column(JSONB)
    cancel_requested: Mapped[bool] = mapped_column(default=False)


class EventRow(Base):
    __tablename__ = "job_events"

    job_id: Mapped[str] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
