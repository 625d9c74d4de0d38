"""SQLAlchemy mappings of the models schema (created by migrations/)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "models"


class Base(DeclarativeBase):
    metadata = sa.MetaData(schema=SCHEMA)


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"

    tenant: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(default="")
    tags: Mapped[dict] = mapped_column(JSONB, default=dict)
    latest_version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class ModelVersionRow(Base):
    __tablename__ = "model_versions"

    tenant: Mapped[str] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    source_model: Mapped[str]
    lineage: Mapped[bytes] = mapped_column(sa.LargeBinary)
    model_type: Mapped[int] = mapped_column(sa.SmallInteger)
    artifact_format: Mapped[int] = mapped_column(sa.SmallInteger)
    formats: Mapped[list[int]] = mapped_column(ARRAY(sa.SmallInteger))
    storage_prefix: Mapped[str]
    artifact: Mapped[bytes] = mapped_column(sa.LargeBinary)
    bundle: Mapped[bytes] = mapped_column(sa.LargeBinary)
    description: Mapped[str] = mapped_column(default="")
    tags: Mapped[dict] = mapped_column(JSONB, default=dict)
    # What the version's objects (artifact, bundle, a converted .h5) take in the store.
    stored_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class AliasRow(Base):
    __tablename__ = "model_aliases"

    tenant: Mapped[str] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger)
