"""Sessions: a tenant's recipe for turning uploaded files into a dataset."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from google.protobuf import field_mask_pb2

from services.training import session_spec
from services.training.resources import from_json, session_message, to_json
from services.training.rows import DatasetRow, EventRow, RunRow, SessionRow
from tsforge.core.clients import UploadClient
from tsforge.core.db import Database, newest_first
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import description_problems, display_name_problems
from tsforge.training.v1 import training_resources_pb2 as tr

ACTIVE_RUN_STATES = (tr.RUN_STATE_QUEUED, tr.RUN_STATE_RUNNING)
EDITABLE = ("display_name", "description", "spec")
SPEC_FIELDS = ("inputs", "outputs", "window", "calendar", "split", "lags", "future_calendar")


class Sessions:
    def __init__(self, db: Database, uploads: UploadClient):
        self._db = db
        self._uploads = uploads

    def _checked_spec(self, tenant: str, spec: tr.DatasetSpec, extra: list[FieldViolation]) -> tr.DatasetSpec:
        spec = session_spec.with_defaults(spec)
        problems = extra + session_spec.validate(spec, lambda name: self._uploads.get_file(tenant, name))
        if problems:
            raise InvalidArgument(problems)
        return spec

    def check_spec(self, tenant: str, spec: tr.DatasetSpec) -> tr.DatasetSpec:
        """`spec` with its defaults, or InvalidArgument listing every problem."""
        return self._checked_spec(tenant, spec, [])

    def create(self, tenant: str, session: tr.Session) -> tr.Session:
        """Raises InvalidArgument listing every problem, Unavailable."""
        extra = _name_problems(session.display_name, session.description)
        spec = self._checked_spec(tenant, session.spec, extra)
        stamp = utc_now()
        row = SessionRow(
            id=uuid.uuid4().hex,
            tenant=tenant,
            display_name=session.display_name,
            description=session.description,
            spec=to_json(spec),
            create_time=stamp,
            update_time=stamp,
        )
        with self._db.transaction() as db:
            db.add(row)
        return session_message(row)

    def get(self, tenant: str, session_id: str) -> tr.Session:
        with self._db.transaction() as db:
            row = find_session(db, tenant, session_id)
            return session_message(row, _latest_dataset(db, row.id))

    def list(self, tenant: str, requested: int, token: str) -> tuple[list[tr.Session], str]:
        limit = page_size(requested)
        after = decode_token(token)
        with self._db.transaction() as db:
            query = sa.select(SessionRow).where(SessionRow.tenant == tenant)
            rows = list(db.scalars(newest_first(query, SessionRow, limit + 1, after)))
            page, next_token = paginate(rows, limit)
            return [session_message(row, _latest_dataset(db, row.id)) for row in page], next_token

    def update(self, tenant: str, session: tr.Session, mask: field_mask_pb2.FieldMask) -> tr.Session:
        """Changes the fields in the mask. Raises InvalidArgument, NotFound."""
        session_id = session.name.removeprefix("sessions/")
        paths = list(mask.paths)
        problems = [] if paths else [FieldViolation("update_mask", f"name at least one of {', '.join(EDITABLE)}")]
        allowed = set(EDITABLE) | {f"spec.{field}" for field in SPEC_FIELDS}
        problems += [
            FieldViolation("update_mask", f"{path!r} cannot be changed; editable: {sorted(allowed)}")
            for path in paths
            if path not in allowed
        ]
        problems += _name_problems(
            session.display_name if "display_name" in paths else "x",
            session.description if "description" in paths else "",
        )
        with self._db.transaction() as db:
            row = find_session(db, tenant, session_id, lock=True)
            spec = from_json(row.spec, tr.DatasetSpec)
            if "spec" in paths:
                spec = session.spec
            for field in SPEC_FIELDS:
                if f"spec.{field}" in paths:
                    spec.ClearField(field)
                    if field in ("inputs", "outputs", "lags"):
                        getattr(spec, field).extend(getattr(session.spec, field))
                    else:
                        getattr(spec, field).CopyFrom(getattr(session.spec, field))
            spec = self._checked_spec(tenant, spec, problems)
            if "display_name" in paths:
                row.display_name = session.display_name
            if "description" in paths:
                row.description = session.description
            row.spec = to_json(spec)
            row.update_time = utc_now()
            return session_message(row, _latest_dataset(db, row.id))

    def delete(self, tenant: str, session_id: str, force: bool) -> list[str]:
        """Deletes the session with its datasets, runs and events; returns the object-store
        prefixes to remove. Raises NotFound, FailedPrecondition (active runs, not forced)."""
        with self._db.transaction() as db:
            find_session(db, tenant, session_id)
            # Lock order: the session's runs, then its datasets, then the session. A worker
            # updating a run twice in one transaction re-checks the run's foreign key on
            # the session (FOR KEY SHARE); locking the session first would deadlock with it.
            runs = list(
                db.scalars(
                    sa.select(RunRow).where(RunRow.session_id == session_id).order_by(RunRow.id).with_for_update()
                )
            )
            datasets = list(
                db.scalars(
                    sa.select(DatasetRow.id)
                    .where(DatasetRow.session_id == session_id)
                    .order_by(DatasetRow.id)
                    .with_for_update()
                )
            )
            row = find_session(db, tenant, session_id, lock=True)
            active = sum(1 for run in runs if run.state in ACTIVE_RUN_STATES)
            if active and not force:
                raise FailedPrecondition(
                    f"the session has {active} queued or running run(s); cancel them or delete with force",
                    f"sessions/{session_id}",
                )
            runs = [run.id for run in runs]
            # Workers notice the deleted run (their heartbeat finds no row) and stop.
            db.delete(row)  # datasets and runs cascade
            db.execute(sa.delete(EventRow).where(EventRow.job_id.in_(datasets + runs)))
        return [f"datasets/{tenant}/{d}/" for d in datasets] + [f"runs/{tenant}/{r}/" for r in runs]


def find_owned(db, query, name: str, lock: bool = False):
    """The row a tenant-scoped `query` selects, FOR UPDATE when `lock`; NotFound(name)
    when there is none (also when it is another tenant's)."""
    row = db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(name)
    return row


def find_session(db, tenant: str, session_id: str, lock: bool = False) -> SessionRow:
    return find_owned(
        db,
        sa.select(SessionRow).where(SessionRow.tenant == tenant, SessionRow.id == session_id),
        f"sessions/{session_id}",
        lock,
    )


def _latest_dataset(db, session_id: str) -> str:
    latest = db.scalar(
        sa.select(DatasetRow.id)
        .where(DatasetRow.session_id == session_id)
        .order_by(DatasetRow.create_time.desc())
        .limit(1)
    )
    return f"sessions/{session_id}/datasets/{latest}" if latest else ""


def _name_problems(display_name: str, description: str) -> list[FieldViolation]:
    return display_name_problems(display_name, "session.display_name") + description_problems(
        description, "session.description"
    )
