"""SQLAlchemy mappings of the upload schema (created by migrations/, never by create_all)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "upload"


class Base(DeclarativeBase):
    metadata = sa.MetaData(schema=SCHEMA)


class UploadRow(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    file_name: Mapped[str]
    role: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[int] = mapped_column(sa.SmallInteger)
    display_name: Mapped[str]
    description: Mapped[str]
    declared_size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    declared_sha256: Mapped[str]
    received_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    object_key: Mapped[str]
    multipart_id: Mapped[str]
    pending_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class UploadPartRow(Base):
    __tablename__ = "upload_parts"

    upload_id: Mapped[str] = mapped_column(primary_key=True)
    part_number: Mapped[int] = mapped_column(primary_key=True)
    etag: Mapped[str]
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)


class PendingChunkRow(Base):
    __tablename__ = "upload_pending_chunks"

    upload_id: Mapped[str] = mapped_column(primary_key=True)
    offset_bytes: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class FileRow(Base):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(primary_key=True)
    tenant: Mapped[str]
    display_name: Mapped[str]
    description: Mapped[str]
    role: Mapped[int] = mapped_column(sa.SmallInteger)
    file_name: Mapped[str]
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str]
    object_key: Mapped[str]
    profile: Mapped[dict] = mapped_column(JSONB)
    create_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
