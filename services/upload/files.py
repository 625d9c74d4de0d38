"""Finished files: read, list, edit, delete, download, preview."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import replace

from services.upload import repository as repo
from services.upload.domain import Page, Role, StoredFile
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.storage import ObjectStore
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import description_problems, display_name_problems
from tsforge.tabular.profiling import CsvProblem, preview_csv

EDITABLE_FIELDS = ("display_name", "description", "role")
MAX_PREVIEW_ROWS = 1000
DOWNLOAD_CHUNK_BYTES = 1 << 20


class Files:
    def __init__(self, db: Database, store: ObjectStore):
        self._db = db
        self._store = store

    def get(self, tenant: str, file_id: str) -> StoredFile:
        """Raises NotFound."""
        with self._db.transaction() as session:
            return _found(repo.get_file(session, tenant, file_id), file_id)

    def list(self, tenant: str, role: Role | None, requested_page_size: int, page_token: str) -> Page:
        limit = page_size(requested_page_size)
        with self._db.transaction() as session:
            items = repo.list_files(session, tenant, role, limit + 1, decode_token(page_token))
        return Page(*paginate(items, limit))

    def update(
        self,
        tenant: str,
        file_id: str,
        paths: builtins.list[str],
        display_name: str,
        description: str,
        role: Role | None,
    ) -> StoredFile:
        """Changes the fields named in `paths`. Raises InvalidArgument, NotFound."""
        violations = []
        if not paths:
            violations.append(FieldViolation("update_mask", f"name at least one of {', '.join(EDITABLE_FIELDS)}"))
        for path in paths:
            if path not in EDITABLE_FIELDS:
                violations.append(
                    FieldViolation("update_mask", f"{path!r} cannot be changed; editable: {', '.join(EDITABLE_FIELDS)}")
                )
        values: dict = {}
        if "display_name" in paths:
            violations += display_name_problems(display_name, "file.display_name")
            values["display_name"] = display_name
        if "description" in paths:
            violations += description_problems(description, "file.description")
            values["description"] = description
        if "role" in paths:
            if role not in (Role.INPUT, Role.OUTPUT):
                violations.append(FieldViolation("file.role", "must be FEATURE_ROLE_INPUT or FEATURE_ROLE_OUTPUT"))
            values["role"] = role
        if violations:
            raise InvalidArgument(violations)
        with self._db.transaction() as session:
            stored = _found(repo.get_file(session, tenant, file_id, lock=True), file_id)
            values["update_time"] = utc_now()
            repo.update_file(session, file_id, **values)
            return replace(stored, **values)

    def delete(self, tenant: str, file_id: str) -> None:
        """Deletes the row and the object, both or neither. Raises NotFound."""
        with self._db.transaction() as session:
            stored = _found(repo.get_file(session, tenant, file_id, lock=True), file_id)
            repo.delete_file(session, file_id)
            repo.record_usage(session, tenant)
            # Deleted under the row lock, before the commit: if the store fails the
            # row stays, so a file is never listed without its bytes.
            self._store.delete(stored.object_key)

    def download(self, tenant: str, file_id: str) -> tuple[StoredFile, Iterator[bytes]]:
        """The file and its bytes in chunks of at most 1 MiB. Raises NotFound."""
        stored = self.get(tenant, file_id)
        return stored, self._store.read(stored.object_key, chunk_size=DOWNLOAD_CHUNK_BYTES)

    def preview(self, tenant: str, file_id: str, rows: int):
        """(column names, [(time, values)]) of the first `rows` rows. Raises InvalidArgument, NotFound."""
        if rows < 0 or rows > MAX_PREVIEW_ROWS:
            raise InvalidArgument(FieldViolation("row_count", f"must be between 0 and {MAX_PREVIEW_ROWS}"))
        stored = self.get(tenant, file_id)
        try:
            return preview_csv(self._store.read(stored.object_key), stored.profile, rows or 20)
        except CsvProblem as problem:
            raise FailedPrecondition(f"the file cannot be previewed: {problem}", stored.name) from None


def _found(value: StoredFile | None, file_id: str) -> StoredFile:
    if value is None:
        raise NotFound(f"files/{file_id}")
    return value
