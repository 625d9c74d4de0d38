"""Getting bytes in: resumable chunked uploads, single-call streaming uploads, and the
completion step that checksums, profiles and turns an upload into a File.

Bytes go to the object store as they arrive. The unary flow writes multipart parts: a
chunk of at least a part the store accepts (S3: 5 MiB) goes straight to the store;
smaller ones wait in PostgreSQL until they fill a part, so any replica can take the
next chunk and memory never holds more than a part. The replica that takes the chunks
also checksums and profiles them as they come (scan.LiveScans), so completing the
upload does not read the file again unless its chunks went to several replicas.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import PurePosixPath
from typing import NoReturn

from services.upload import repository as repo
from services.upload.domain import NewUpload, Page, Role, StoredFile, Upload, UploadState
from services.upload.scan import LiveScans, Scan
from tsforge.core import usage
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, QuotaExceeded
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.storage import ObjectNotFound, ObjectStore
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import description_problems, display_name_problems
from tsforge.tabular.profiling import CsvProblem

log = logging.getLogger(__name__)

# Room for a whole S3 part (5 MiB) in one chunk, within the 8 MiB gRPC message limit.
MAX_CHUNK_BYTES = 6 << 20
UPLOAD_LOST = "UPLOAD_LOST"  # PreconditionFailure type: start the upload again
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


class Uploads:
    """The upload flows of one deployment: a database, an object store, a quota."""

    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        *,
        quota_bytes: int,
        expiry: timedelta,
        max_unfinished: int = 20,
    ):
        self._db = db
        self._store = store
        self._quota_bytes = quota_bytes
        self._max_unfinished = max_unfinished
        self.expiry = expiry
        # The unary flow buffers to the store's smallest part; a store that takes any
        # size (the local directory) gets every chunk as its own part.
        self._part_bytes = store.min_part_size
        self._live_scans = LiveScans()

    # -- the resumable, unary flow -------------------------------------------------

    def create(self, tenant: str, new: NewUpload) -> Upload:
        """Starts an upload. Raises InvalidArgument, QuotaExceeded (bytes, or too many
        unfinished uploads)."""
        _validate_new_upload(new)
        with self._db.transaction() as session:  # refused before it costs the store a call
            self._check_quota(session, tenant, new.declared_size_bytes)
            self._check_unfinished(session, tenant)
        upload_id = uuid.uuid4().hex
        key = f"files/{tenant}/{upload_id}"
        multipart_id = self._store.start_multipart(key)
        stamp = utc_now()
        upload = Upload(
            id=upload_id,
            tenant=tenant,
            file_name=new.file_name,
            role=new.role,
            state=UploadState.ACTIVE,
            display_name=new.display_name or PurePosixPath(new.file_name).stem,
            description=new.description,
            declared_size_bytes=new.declared_size_bytes,
            declared_sha256=new.declared_sha256.lower(),
            received_bytes=0,
            object_key=key,
            multipart_id=multipart_id,
            pending_bytes=0,
            create_time=stamp,
            update_time=stamp,
        )
        try:
            with self._db.transaction() as session:
                repo.lock_quota(session, tenant)  # creates of one tenant in turn: the count holds
                self._check_unfinished(session, tenant)
                repo.insert_upload(session, upload)
        except Exception:
            self._store.abort_multipart(key, multipart_id)
            raise
        return upload

    def _check_unfinished(self, session, tenant: str) -> None:
        count = repo.count_unfinished_uploads(session, tenant)
        if count >= self._max_unfinished:
            raise QuotaExceeded(
                f"{count} uploads of this tenant are unfinished; the limit is {self._max_unfinished} "
                "(TSFORGE_TENANT_MAX_UNFINISHED_UPLOADS): complete or abort some ('tsforge uploads')",
                subject="tenant:unfinished_uploads",
            )

    def get(self, tenant: str, upload_id: str) -> Upload:
        with self._db.transaction() as session:
            return _found(repo.get_upload(session, tenant, upload_id), f"uploads/{upload_id}")

    def list(self, tenant: str, requested_page_size: int, page_token: str) -> Page:
        limit = page_size(requested_page_size)
        with self._db.transaction() as session:
            items = repo.list_active_uploads(session, tenant, limit + 1, decode_token(page_token))
        return Page(*paginate(items, limit))

    def write_chunk(self, tenant: str, upload_id: str, offset: int, data: bytes) -> Upload:
        """Appends `data` at `offset`.

        Re-sending bytes already received changes nothing. Raises InvalidArgument,
        NotFound, FailedPrecondition (wrong offset or state), QuotaExceeded (the
        upload is then discarded).
        """
        violations = []
        if offset < 0:
            violations.append(FieldViolation("offset", "must not be negative"))
        if not data:
            violations.append(FieldViolation("data", "must not be empty"))
        elif len(data) > MAX_CHUNK_BYTES:
            violations.append(FieldViolation("data", f"at most {MAX_CHUNK_BYTES} bytes per chunk"))
        if violations:
            raise InvalidArgument(violations)
        try:
            with self._db.transaction() as session:
                upload = _found(repo.get_upload(session, tenant, upload_id, lock=True), f"uploads/{upload_id}")
                _require_active(upload)
                end = offset + len(data)
                if offset < upload.received_bytes and end <= upload.received_bytes:
                    return upload  # a re-sent chunk: already stored
                if offset != upload.received_bytes:
                    raise FailedPrecondition(
                        f"expected offset {upload.received_bytes}, got {offset}", upload.name, "OFFSET"
                    )
                if upload.declared_size_bytes and end > upload.declared_size_bytes:
                    raise FailedPrecondition(
                        f"chunk ends at byte {end}, past the declared size {upload.declared_size_bytes}",
                        upload.name,
                        "SIZE",
                    )
                self._check_quota(session, tenant, len(data))
                return self._append(session, upload, data)
        except QuotaExceeded:
            self.abort(tenant, upload_id)
            raise
        except ObjectNotFound:
            self._lost(tenant, upload_id)

    def _append(self, session, upload: Upload, data: bytes) -> Upload:
        pending = upload.pending_bytes
        if pending == 0 and len(data) >= self._part_bytes:
            self._upload_part(session, upload, data)
        else:
            repo.add_pending(session, upload.id, upload.received_bytes, data)
            pending += len(data)
            if pending >= self._part_bytes:
                self._upload_part(session, upload, repo.take_pending(session, upload.id))
                pending = 0
        received, now = upload.received_bytes + len(data), utc_now()
        repo.update_upload(session, upload.id, received_bytes=received, pending_bytes=pending, update_time=now)
        # Under the upload's row lock, so chunks are fed in order; should the commit
        # fail, the retried chunk no longer follows the scan's bytes and drops it.
        self._live_scans.feed(upload.id, upload.received_bytes, data)
        return replace(upload, received_bytes=received, pending_bytes=pending, update_time=now)

    def _upload_part(self, session, upload: Upload, data: bytes) -> None:
        number = repo.next_part_number(session, upload.id)
        etag = self._store.upload_part(upload.object_key, upload.multipart_id, number, data)
        repo.add_part(session, upload.id, number, etag, len(data))

    def complete(self, tenant: str, upload_id: str, sha256: str) -> StoredFile:
        """Assembles, checksums and profiles the upload and creates its File.

        Completing a completed upload again returns its file. Raises InvalidArgument
        (bad or mismatched checksum, unusable CSV: the upload is then discarded),
        NotFound, FailedPrecondition.
        """
        sha256 = sha256.lower()
        if not SHA256_PATTERN.fullmatch(sha256):
            raise InvalidArgument(FieldViolation("sha256", "must be 64 hexadecimal digits"))
        try:
            upload = self._assemble(tenant, upload_id, sha256)
        except ObjectNotFound:
            self._lost(tenant, upload_id)
        if isinstance(upload, StoredFile):
            return upload
        return self._finish(
            upload, sha256, upload_row=True, scan=self._live_scans.take(upload.id, upload.received_bytes)
        )

    def _assemble(self, tenant: str, upload_id: str, sha256: str) -> Upload | StoredFile:
        """Joins the upload's parts into its object and marks it COMPLETING; the File when
        it was completed before."""
        with self._db.transaction() as session:
            upload = _found(repo.get_upload(session, tenant, upload_id, lock=True), f"uploads/{upload_id}")
            if upload.state == UploadState.COMPLETED:
                stored = _found(repo.get_file(session, tenant, upload_id), f"files/{upload_id}")
                if stored.sha256 != sha256:
                    raise InvalidArgument(FieldViolation("sha256", "does not match the completed file"))
                return stored
            _require_active(upload)
            if upload.declared_size_bytes and upload.received_bytes != upload.declared_size_bytes:
                raise FailedPrecondition(
                    f"received {upload.received_bytes} of the declared {upload.declared_size_bytes} bytes",
                    upload.name,
                    "SIZE",
                )
            if upload.pending_bytes:
                self._upload_part(session, upload, repo.take_pending(session, upload.id))
            if upload.received_bytes == 0:
                # A multipart upload needs one part; an empty file is refused below anyway.
                self._upload_part(session, upload, b"")
            self._store.complete_multipart(upload.object_key, upload.multipart_id, repo.parts(session, upload.id))
            repo.update_upload(session, upload.id, state=UploadState.COMPLETING, pending_bytes=0, update_time=utc_now())
        return upload

    def _lost(self, tenant: str, upload_id: str) -> NoReturn:
        """The store no longer has the upload's parts (it was restarted, or its multipart
        upload expired there): the upload is discarded, and the caller must start anew."""
        with contextlib.suppress(NotFound, FailedPrecondition):
            self.abort(tenant, upload_id)
        raise FailedPrecondition(
            "the object store no longer holds this upload's parts (was it restarted?); the upload was "
            "discarded: start it again (tsforge upload does so by itself)",
            f"uploads/{upload_id}",
            UPLOAD_LOST,
        )

    def abort(self, tenant: str, upload_id: str) -> None:
        """Discards an upload and everything it received. Raises NotFound, FailedPrecondition."""
        with self._db.transaction() as session:
            upload = _found(repo.get_upload(session, tenant, upload_id, lock=True), f"uploads/{upload_id}")
            if upload.state == UploadState.COMPLETED:
                raise FailedPrecondition("the upload is completed; delete its file instead", upload.name)
            self._discard(session, upload)

    def _discard(self, session, upload: Upload) -> None:
        self._live_scans.drop(upload.id)
        self._store.abort_multipart(upload.object_key, upload.multipart_id)
        if upload.state != UploadState.ACTIVE:
            self._store.delete(upload.object_key)
        repo.delete_upload(session, upload.id)
        repo.record_usage(session, upload.tenant)

    def reap_expired(self, limit: int = 100) -> int:
        """Discards uploads idle for longer than the expiry. Returns how many."""
        with self._db.transaction() as session:
            expired = repo.expired_uploads(session, utc_now() - self.expiry, limit)
            for upload in expired:
                if upload.state == UploadState.COMPLETED:
                    repo.delete_upload(session, upload.id)  # its file lives on
                else:
                    self._discard(session, upload)
        if expired:
            log.info("reaped %d expired uploads", len(expired))
        return len(expired)

    # -- the single-call streaming flow ----------------------------------------------

    def upload_stream(self, tenant: str, new: NewUpload, chunks: Iterable[bytes]) -> StoredFile:
        """Uploads a whole file from a stream of chunks, checksumming and profiling the
        bytes as they pass to the store. Same errors as create + complete."""
        _validate_new_upload(new)
        with self._db.transaction() as session:
            used = self._used(session, tenant)
        usage.check(used + new.declared_size_bytes, self._quota_bytes)
        upload_id = uuid.uuid4().hex
        stamp = utc_now()
        upload = Upload(
            id=upload_id,
            tenant=tenant,
            file_name=new.file_name,
            role=new.role,
            state=UploadState.COMPLETING,
            display_name=new.display_name or PurePosixPath(new.file_name).stem,
            description=new.description,
            declared_size_bytes=new.declared_size_bytes,
            declared_sha256=new.declared_sha256.lower(),
            received_bytes=0,
            object_key=f"files/{tenant}/{upload_id}",
            multipart_id="",
            pending_bytes=0,
            create_time=stamp,
            update_time=stamp,
        )
        scan = Scan()

        def scanned_within_quota() -> Iterator[bytes]:
            received = 0
            for chunk in chunks:
                received += len(chunk)
                usage.check(used + received, self._quota_bytes)
                scan.feed(chunk)
                yield chunk

        try:
            size = self._store.put(upload.object_key, scanned_within_quota())
        finally:
            scan.finish()
        return self._finish(
            replace(upload, received_bytes=size), new.declared_sha256.lower() or None, upload_row=False, scan=scan
        )

    # -- shared completion -----------------------------------------------------------

    def _finish(
        self, upload: Upload, expected_sha256: str | None, upload_row: bool, scan: Scan | None = None
    ) -> StoredFile:
        """Checks and records the File from the scan of its bytes (scanning the stored
        object when none is given); on any failure the object (and the upload) are removed."""
        try:
            if scan is None:
                scan = Scan()
                try:
                    for chunk in self._store.read(upload.object_key):
                        scan.feed(chunk)
                finally:
                    scan.finish()
            try:
                profile, sha256 = scan.result()
            except CsvProblem as problem:
                raise InvalidArgument(FieldViolation("file", str(problem))) from None
            if expected_sha256 and sha256 != expected_sha256:
                raise InvalidArgument(
                    FieldViolation("sha256", f"the received bytes have SHA-256 {sha256}, not {expected_sha256}")
                )
            stamp = utc_now()
            stored = StoredFile(
                id=upload.id,
                tenant=upload.tenant,
                display_name=upload.display_name,
                description=upload.description,
                role=upload.role,
                file_name=upload.file_name,
                size_bytes=upload.received_bytes,
                sha256=sha256,
                object_key=upload.object_key,
                profile=profile,
                create_time=stamp,
                update_time=stamp,
            )
            with self._db.transaction() as session:
                if upload_row:
                    repo.update_upload(session, upload.id, state=UploadState.COMPLETED, update_time=stamp)
                # Exact, under the tenant's lock: chunks are checked without it (a part
                # upload is not held up by another upload of the tenant) and a streaming
                # upload's bytes are counted nowhere while they come, so two uploads at
                # once may each fit on their own; only one of them becomes a File.
                repo.lock_quota(session, upload.tenant)
                self._check_quota(session, upload.tenant, stored.size_bytes)
                repo.insert_file(session, stored)
                repo.record_usage(session, upload.tenant)
            return stored
        except BaseException:
            self._store.delete(upload.object_key)
            if upload_row:
                with self._db.transaction() as session:
                    repo.delete_upload(session, upload.id)
            raise

    def _check_quota(self, session, tenant: str, more_bytes: int) -> None:
        usage.check(self._used(session, tenant) + more_bytes, self._quota_bytes)

    @staticmethod
    def _used(session, tenant: str) -> int:
        """What counts against the tenant's quota: its files and unfinished uploads here,
        plus what the other services store for it (datasets, run artifacts, versions)."""
        return repo.used_bytes(session, tenant) + usage.others(session, tenant, repo.USAGE_OWNER)


def _validate_new_upload(new: NewUpload) -> None:
    violations = []
    if not new.file_name.strip():
        violations.append(FieldViolation("file_name", "is required"))
    elif len(new.file_name) > 255 or "/" in new.file_name or "\\" in new.file_name:
        violations.append(FieldViolation("file_name", "must be a plain file name of at most 255 characters"))
    if new.role not in (Role.INPUT, Role.OUTPUT):
        violations.append(FieldViolation("role", "must be FEATURE_ROLE_INPUT or FEATURE_ROLE_OUTPUT"))
    violations += display_name_problems(new.display_name, "display_name", required=False)
    violations += description_problems(new.description, "description")
    if new.declared_size_bytes < 0:
        violations.append(FieldViolation("declared_size_bytes", "must not be negative"))
    if new.declared_sha256 and not SHA256_PATTERN.fullmatch(new.declared_sha256.lower()):
        violations.append(FieldViolation("declared_sha256", "must be 64 hexadecimal digits"))
    if violations:
        raise InvalidArgument(violations)


def _require_active(upload: Upload) -> None:
    if upload.state != UploadState.ACTIVE:
        state = "completed" if upload.state == UploadState.COMPLETED else "being completed"
        raise FailedPrecondition(f"the upload is {state} and takes no more chunks", upload.name, "STATE")


def _found(value, name: str):
    if value is None:
        raise NotFound(name)
    return value
