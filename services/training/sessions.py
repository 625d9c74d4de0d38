"""Sessions: a tenant's recipe for turning uploaded files into a dataset."""

from __future__ import annotations

import builtins
import uuid

from google.protobuf import field_mask_pb2

from services.training import repository as repo
from services.training import session_spec
from services.training.messages import from_json, session_message, to_json
from services.training.rows import SessionRow
from tsforge.core.clients import UploadClient
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import description_problems, display_name_problems
from tsforge.training.v1 import training_resources_pb2 as tr

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
            repo.insert_session(db, row)
        return session_message(row)

    def get(self, tenant: str, session_id: str) -> tr.Session:
        with self._db.transaction() as db:
            row = repo.find_session(db, tenant, session_id)
            return session_message(row, _latest_dataset(db, row.id))

    def list(self, tenant: str, requested: int, token: str) -> tuple[list[tr.Session], str]:
        limit = page_size(requested)
        after = decode_token(token)
        with self._db.transaction() as db:
            rows = repo.list_sessions(db, tenant, limit + 1, after)
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
            row = repo.find_session(db, tenant, session_id, lock=True)
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
            values = {name: getattr(session, name) for name in ("display_name", "description") if name in paths}
            repo.update_session(db, row, **values, spec=to_json(spec), update_time=utc_now())
            return session_message(row, _latest_dataset(db, row.id))

    def delete(self, tenant: str, session_id: str, force: bool) -> builtins.list[str]:
        """Deletes the session with its datasets, runs and events, and gives their bytes
        back to the tenant's quota; returns the object-store prefixes to remove. Raises
        NotFound, FailedPrecondition (active runs, not forced)."""
        with self._db.transaction() as db:
            repo.find_session(db, tenant, session_id)
            # The quota lock first, as a worker storing an object takes it before the job's row.
            repo.lock_usage(db, tenant)
            runs, datasets = repo.lock_session_jobs(db, session_id)
            row = repo.find_session(db, tenant, session_id, lock=True)
            active = sum(1 for run in runs if run.state in repo.ACTIVE_RUN_STATES)
            if active and not force:
                raise FailedPrecondition(
                    f"the session has {active} queued or running run(s); cancel them or delete with force",
                    f"sessions/{session_id}",
                )
            run_ids = [run.id for run in runs]
            # Workers notice the deleted run (their heartbeat finds no row) and stop.
            repo.delete_session(db, row, datasets + run_ids)
            repo.record_usage(db, tenant)
        return [f"datasets/{tenant}/{d}/" for d in datasets] + [f"runs/{tenant}/{r}/" for r in run_ids]


def _latest_dataset(db, session_id: str) -> str:
    latest = repo.latest_dataset_id(db, session_id)
    return f"sessions/{session_id}/datasets/{latest}" if latest else ""


def _name_problems(display_name: str, description: str) -> list[FieldViolation]:
    return display_name_problems(display_name, "session.display_name") + description_problems(
        description, "session.description"
    )
