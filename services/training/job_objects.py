"""What a dataset build or a run writes to the object store, counted against the
tenant's one byte quota (tsforge/core/usage.py).

Each object's bytes are reserved before it is written: under the tenant's quota lock,
the tenant's total (training's datasets and runs, plus what the other services record
in the ledger) plus the object's size is checked against TSFORGE_TENANT_QUOTA_BYTES,
then added to the job's `stored_bytes` and the ledger, in one transaction. So the ledger
never counts less than the store holds, and two jobs (or a job and an upload) cannot
both take the last bytes. A write that fails gives its bytes back; deleting a job's
objects gives them all back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from services.training import repository as repo
from tsforge.core import usage
from tsforge.core.db import Database, reconnecting
from tsforge.core.storage import ObjectStore
from tsforge.tabular.streams import file_chunks


def dataset_prefix(tenant: str, dataset_id: str) -> str:
    return f"datasets/{tenant}/{dataset_id}/"


def run_prefix(tenant: str, run_id: str) -> str:
    return f"runs/{tenant}/{run_id}/"


def model_prefix(tenant: str, model: str) -> str:
    """Where the objects of the model "runs/{run}/models/{id}" go."""
    _, run_id, _, model_id = model.split("/")
    return f"{run_prefix(tenant, run_id)}{model_id}/"


class JobGone(Exception):
    """The job's row was deleted (with its session) while it was writing."""


class JobObjects:
    """The objects one job ("dataset" or "run") writes, within the tenant's quota."""

    def __init__(self, db: Database, store: ObjectStore, quota_bytes: int, kind: str, tenant: str, job_id: str):
        self._db, self._store, self._quota = db, store, quota_bytes
        self._kind, self._tenant, self._job_id = kind, tenant, job_id
        self._written: dict[str, int] = {}  # key -> bytes, written by this attempt

    def put_bytes(self, key: str, data: bytes) -> tuple[int, str]:
        """Stores `data` at `key`: (size, SHA-256 hex).

        Raises QuotaExceeded (nothing written), JobGone, the store's errors.
        """
        return self._put(key, len(data), lambda: iter([data]), lambda: hashlib.sha256(data).hexdigest())

    def put_file(self, key: str, handle: BinaryIO) -> tuple[int, str]:
        """Stores the whole of the file `handle` at `key`: (size, SHA-256 hex). Raises as put_bytes."""
        size = handle.seek(0, 2)
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            handle.seek(0)
            for chunk in file_chunks(handle):
                digest.update(chunk)
                yield chunk

        return self._put(key, size, chunks, digest.hexdigest)

    def _put(self, key: str, size: int, chunks, sha256) -> tuple[int, str]:
        self._change(size, check=True)
        try:
            stored = self._store.put(key, chunks())
        except BaseException:
            self._change(-size)
            raise
        if stored != size:  # the store is the truth
            self._change(stored - size)
        self._written[key] = stored
        return stored, sha256()

    def discard(self, prefix: str) -> None:
        """Deletes the objects under `prefix` this attempt wrote, and gives their bytes back."""
        self._store.delete_prefix(prefix)
        freed = sum(size for key, size in self._written.items() if key.startswith(prefix))
        self._written = {key: size for key, size in self._written.items() if not key.startswith(prefix)}
        if freed:
            try:
                self._change(-freed)
            except JobGone:
                pass  # deleted with its session: nothing is counted any more

    def discard_all(self, prefix: str) -> None:
        """Deletes every object of the job (all under `prefix`); it stores nothing now."""
        self._store.delete_prefix(prefix)
        self._written.clear()

        def write() -> None:
            with self._db.transaction() as session:
                repo.lock_usage(session, self._tenant)
                repo.clear_stored_bytes(session, self._kind, self._job_id)
                repo.record_usage(session, self._tenant)

        reconnecting(write)

    def settle(self, prefix: str, partial: list[str]) -> None:
        """After the job's worker was lost: deletes what it was writing (under the
        `partial` prefixes) and counts exactly what remains under `prefix`."""
        for each in partial:
            self._store.delete_prefix(each)
        remaining = sum(self._store.size(key) for key in self._store.list(prefix))

        def write() -> None:
            with self._db.transaction() as session:
                repo.lock_usage(session, self._tenant)
                repo.clear_stored_bytes(session, self._kind, self._job_id)
                repo.add_stored_bytes(session, self._kind, self._job_id, remaining)
                repo.record_usage(session, self._tenant)

        reconnecting(write)

    def _change(self, delta: int, check: bool = False) -> None:
        def write() -> None:
            with self._db.transaction() as session:
                repo.lock_usage(session, self._tenant)
                if check:
                    usage.check(repo.tenant_bytes(session, self._tenant) + delta, self._quota)
                if not repo.add_stored_bytes(session, self._kind, self._job_id, delta):
                    raise JobGone(self._job_id)
                repo.record_usage(session, self._tenant)

        reconnecting(write)
