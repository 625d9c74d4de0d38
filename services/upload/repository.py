"""Queries of the upload schema. Every query that reads a resource filters by tenant,
so another tenant's upload or file is simply not found."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.upload.domain import Role, StoredFile, Upload, UploadState
from services.upload.rows import FileRow, PendingChunkRow, UploadPartRow, UploadRow
from tsforge.core import usage
from tsforge.core.db import newest_first
from tsforge.tabular.profiling import ColumnProfile, FileProfile


def insert_upload(session: Session, upload: Upload) -> None:
    session.add(UploadRow(**{f.name: getattr(upload, f.name) for f in dataclasses.fields(Upload)}))


def get_upload(session: Session, tenant: str, upload_id: str, *, lock: bool = False) -> Upload | None:
    query = sa.select(UploadRow).where(UploadRow.tenant == tenant, UploadRow.id == upload_id)
    row = session.scalar(query.with_for_update() if lock else query)
    return _upload(row) if row else None


def list_active_uploads(session: Session, tenant: str, limit: int, after: tuple[datetime, str] | None) -> list[Upload]:
    query = sa.select(UploadRow).where(UploadRow.tenant == tenant, UploadRow.state == UploadState.ACTIVE)
    return [_upload(row) for row in session.scalars(newest_first(query, UploadRow, limit, after))]


def update_upload(session: Session, upload_id: str, **values) -> None:
    session.execute(sa.update(UploadRow).where(UploadRow.id == upload_id).values(**values))


def delete_upload(session: Session, upload_id: str) -> None:
    session.execute(sa.delete(UploadRow).where(UploadRow.id == upload_id))


def expired_uploads(session: Session, updated_before: datetime, limit: int) -> list[Upload]:
    """Uploads idle since before `updated_before`, locked; rows other replicas hold are skipped."""
    query = (
        sa.select(UploadRow)
        .where(UploadRow.update_time < updated_before)
        .order_by(UploadRow.update_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_upload(row) for row in session.scalars(query)]


def add_part(session: Session, upload_id: str, part_number: int, etag: str, size_bytes: int) -> None:
    session.add(UploadPartRow(upload_id=upload_id, part_number=part_number, etag=etag, size_bytes=size_bytes))


def next_part_number(session: Session, upload_id: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.max(UploadPartRow.part_number), 0)).where(
        UploadPartRow.upload_id == upload_id
    )
    return int(session.scalar(query) or 0) + 1


def parts(session: Session, upload_id: str) -> list[tuple[int, str]]:
    query = (
        sa.select(UploadPartRow.part_number, UploadPartRow.etag)
        .where(UploadPartRow.upload_id == upload_id)
        .order_by(UploadPartRow.part_number)
    )
    return [(number, etag) for number, etag in session.execute(query)]


def add_pending(session: Session, upload_id: str, offset: int, data: bytes) -> None:
    session.add(PendingChunkRow(upload_id=upload_id, offset_bytes=offset, data=data))


def take_pending(session: Session, upload_id: str) -> bytes:
    """The pending bytes of an upload in offset order, removed from the table."""
    rows = session.execute(
        sa.delete(PendingChunkRow)
        .where(PendingChunkRow.upload_id == upload_id)
        .returning(PendingChunkRow.offset_bytes, PendingChunkRow.data)
    ).all()
    return b"".join(data for _, data in sorted(rows))


def lock_quota(session: Session, tenant: str) -> None:
    """Serialises the quota checks of one tenant (across services) until the transaction
    ends, so two uploads never both take the last bytes of its quota."""
    usage.lock(session, tenant)


def record_usage(session: Session, tenant: str) -> None:
    """Writes what this service stores for the tenant into the shared byte ledger."""
    usage.record(session, tenant, USAGE_OWNER, used_bytes(session, tenant))


def count_unfinished_uploads(session: Session, tenant: str) -> int:
    """Uploads of the tenant that are neither completed nor being completed."""
    query = sa.select(sa.func.count()).where(UploadRow.tenant == tenant, UploadRow.state == UploadState.ACTIVE)
    return int(session.scalar(query) or 0)


def used_bytes(session: Session, tenant: str) -> int:
    """Bytes the tenant stores: its files plus what its unfinished uploads hold."""
    files = sa.select(sa.func.coalesce(sa.func.sum(FileRow.size_bytes), 0)).where(FileRow.tenant == tenant)
    uploads = sa.select(sa.func.coalesce(sa.func.sum(UploadRow.received_bytes), 0)).where(
        UploadRow.tenant == tenant, UploadRow.state != UploadState.COMPLETED
    )
    return int(session.scalar(files) or 0) + int(session.scalar(uploads) or 0)


USAGE_OWNER = "upload"


def insert_file(session: Session, stored: StoredFile) -> None:
    values = {f.name: getattr(stored, f.name) for f in dataclasses.fields(StoredFile)}
    values["profile"] = profile_to_json(stored.profile)
    session.add(FileRow(**values))


def get_file(session: Session, tenant: str, file_id: str, *, lock: bool = False) -> StoredFile | None:
    query = sa.select(FileRow).where(FileRow.tenant == tenant, FileRow.id == file_id)
    row = session.scalar(query.with_for_update() if lock else query)
    return _file(row) if row else None


def list_files(
    session: Session, tenant: str, role: Role | None, limit: int, after: tuple[datetime, str] | None
) -> list[StoredFile]:
    query = sa.select(FileRow).where(FileRow.tenant == tenant)
    if role is not None:
        query = query.where(FileRow.role == role)
    return [_file(row) for row in session.scalars(newest_first(query, FileRow, limit, after))]


def update_file(session: Session, file_id: str, **values) -> None:
    session.execute(sa.update(FileRow).where(FileRow.id == file_id).values(**values))


def delete_file(session: Session, file_id: str) -> None:
    session.execute(sa.delete(FileRow).where(FileRow.id == file_id))


def _upload(row: UploadRow) -> Upload:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(Upload)}
    return Upload(**{**values, "role": Role(row.role), "state": UploadState(row.state)})


def _file(row: FileRow) -> StoredFile:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(StoredFile)}
    return StoredFile(**{**values, "role": Role(row.role), "profile": profile_from_json(row.profile)})


def profile_to_json(profile: FileProfile) -> dict:
    data = dataclasses.asdict(profile)
    for key in ("first_time", "last_time"):
        data[key] = data[key].isoformat()
    for key in ("median_step", "min_step"):
        data[key] = None if data[key] is None else data[key].total_seconds()
    return data


def profile_from_json(data: dict) -> FileProfile:
    values = dict(data)
    for key in ("first_time", "last_time"):
        values[key] = datetime.fromisoformat(values[key])
    for key in ("median_step", "min_step"):
        values[key] = None if values[key] is None else timedelta(seconds=values[key])
    values["columns"] = tuple(ColumnProfile(**column) for column in values["columns"])
    return FileProfile(**values)
