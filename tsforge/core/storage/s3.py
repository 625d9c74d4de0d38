"""An object store on S3 or MinIO, through the `minio` SDK."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO, cast

import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error

from tsforge.core.storage.base import (
    ObjectNotFound,
    ObjectStoreError,
    validate_key,
    validate_part_number,
    validate_part_order,
    validate_prefix,
    validate_range,
)
from tsforge.core.storage.streams import ClosingChunks

S3_MIN_PART_SIZE = 5 * 1024 * 1024
# put() sends two parts at once while it reads the next: three parts in memory. 8 MiB
# parts allow objects up to ~78 GiB (10,000 parts).
DEFAULT_PUT_PART_SIZE = 8 * 1024 * 1024
PUT_PARTS_IN_FLIGHT = 2

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchUpload"})
# The caller handed us bad parts: a programming error, not an outage.
_BAD_PARTS_CODES = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})
_BUCKET_EXISTS_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class S3ObjectStore:
    """Objects in one S3/MinIO bucket; keys are object names.

    Every failure of the server or the connection surfaces as ObjectStoreError, a
    missing key or upload as ObjectNotFound.
    """

    def __init__(self, client: Minio, bucket: str, *, put_part_size: int = DEFAULT_PUT_PART_SIZE) -> None:
        """Use `bucket` (which must exist) through `client`.

        `put_part_size` is the multipart part size put() uploads in, and so the memory
        one put holds; raises ValueError below S3's 5 MiB minimum.
        """
        if put_part_size < S3_MIN_PART_SIZE:
            raise ValueError(f"put_part_size must be >= {S3_MIN_PART_SIZE}, got {put_part_size}")
        self.min_part_size = S3_MIN_PART_SIZE
        self._client = client
        self._bucket = bucket
        self._put_part_size = put_part_size

    @property
    def bucket(self) -> str:
        """The bucket holding the objects."""
        return self._bucket

    @classmethod
    def from_settings(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool,
        region: str | None = None,
        *,
        put_part_size: int = DEFAULT_PUT_PART_SIZE,
    ) -> S3ObjectStore:
        """Connect to `endpoint` ("host:port") and create `bucket` if it is missing.

        Raises ObjectStoreError when the server cannot be reached or refuses.
        """
        client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        with translate_s3_errors(bucket):
            if not client.bucket_exists(bucket):
                try:
                    client.make_bucket(bucket, location=region)
                except S3Error as exc:
                    # Another replica starting at the same time may have won the race.
                    if exc.code not in _BUCKET_EXISTS_CODES:
                        raise
        return cls(client, bucket, put_part_size=put_part_size)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Stream `chunks` to `key`, three parts in memory at most; return the size.

        minio aborts its multipart upload when `chunks` raises, so a failed put leaves
        no object. Raises ObjectStoreError; errors from `chunks` propagate unchanged.
        """
        validate_key(key)
        stream = _ChunkStream(chunks)
        with translate_s3_errors(key):
            # minio's pool reads a part while PUT_PARTS_IN_FLIGHT go out (its semaphore
            # stops it reading further ahead): sending overlaps reading the chunks.
            self._client.put_object(
                self._bucket,
                key,
                cast(BinaryIO, stream),  # minio only calls read(size) on it
                length=-1,
                part_size=self._put_part_size,
                num_parallel_uploads=PUT_PARTS_IN_FLIGHT,
            )
        return stream.bytes_read

    def read(self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream a byte range of `key`; raises ObjectNotFound now, not on first chunk.

        The returned iterator releases the connection when exhausted; call its close()
        to stop early.
        """
        validate_key(key)
        validate_range(offset, length, chunk_size)
        if length == 0:
            # minio reads length=0 as "to the end"; still report a missing key.
            self.size(key)
            return iter(())
        with translate_s3_errors(key):
            try:
                response = self._client.get_object(self._bucket, key, offset=offset, length=length or 0)
            except S3Error as exc:
                if exc.code != "InvalidRange":
                    raise
                # The range starts at or past the end (or the object is empty).
                return iter(())
        return ClosingChunks(_stream(response, key, chunk_size), lambda: _release(response))

    def size(self, key: str) -> int:
        """Return the size of `key` in bytes; raises ObjectNotFound."""
        validate_key(key)
        with translate_s3_errors(key):
            return int(self._client.stat_object(self._bucket, key).size or 0)

    def exists(self, key: str) -> bool:
        """Return whether `key` holds an object."""
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete `key`; S3 treats a missing key as already deleted."""
        validate_key(key)
        with translate_s3_errors(key):
            self._client.remove_object(self._bucket, key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` and return how many were deleted.

        Raises ValueError for an empty or malformed prefix, ObjectStoreError when any
        deletion fails.
        """
        if not prefix:
            raise ValueError("refusing to delete with an empty prefix")
        deleted = 0

        def listed() -> Iterator[DeleteObject]:
            nonlocal deleted
            for key in self.list(prefix):
                deleted += 1
                yield DeleteObject(key)

        with translate_s3_errors(prefix):
            # remove_objects sends batches of 1,000 lazily; the errors must be drained.
            errors = list(self._client.remove_objects(self._bucket, listed()))
        if errors:
            raise ObjectStoreError(
                f"s3: {len(errors)} of {deleted} deletions under {prefix!r} failed: "
                f"{errors[0].code} {errors[0].message}"
            )
        return deleted

    def list(self, prefix: str) -> Iterator[str]:
        """Yield the keys starting with `prefix`, sorted (S3 lists in key order)."""
        validate_prefix(prefix)
        return self._list(prefix)

    # Multipart across requests (a resumable upload's parts arrive in separate calls, on
    # any replica): minio 7.2 has no public API for it and keeps these S3 calls private
    # (the building blocks of its own put_object). This block is the only place that
    # touches them; pyproject.toml pins minio to the version they were checked against,
    # and the ObjectStore contract suite (tests/core/test_object_store.py) runs them
    # against a real S3 server, so an SDK upgrade that changes them fails there first.
    # (compose_object would be public, but copies every part once more server-side.)

    def start_multipart(self, key: str) -> str:
        """Begin a multipart upload to `key` and return its upload id."""
        validate_key(key)
        with translate_s3_errors(key):
            return self._client._create_multipart_upload(
                self._bucket, key, {"Content-Type": "application/octet-stream"}
            )

    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        """Upload one part (replacing an earlier one with that number); return its etag.

        Raises ValueError for a part number outside 1..10000, ObjectNotFound for an
        unknown upload.
        """
        validate_key(key)
        validate_part_number(part_number)
        with translate_s3_errors(upload_id):
            return self._client._upload_part(self._bucket, key, bytes(data), None, upload_id, part_number)

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        """Join `parts` into `key`; the object appears atomically.

        Raises ObjectNotFound for an unknown upload, ValueError for parts out of order,
        missing, with a wrong etag, or too small.
        """
        validate_key(key)
        validate_part_order(parts)
        with translate_s3_errors(upload_id):
            self._client._complete_multipart_upload(
                self._bucket, key, upload_id, [Part(number, etag) for number, etag in parts]
            )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; an unknown upload is ignored."""
        validate_key(key)
        try:
            with translate_s3_errors(upload_id):
                self._client._abort_multipart_upload(self._bucket, key, upload_id)
        except ObjectNotFound:
            pass

    def _list(self, prefix: str) -> Iterator[str]:
        with translate_s3_errors(prefix):
            for item in self._client.list_objects(self._bucket, prefix=prefix, recursive=True):
                if not item.is_dir:
                    yield item.object_name


@contextmanager
def translate_s3_errors(subject: str) -> Iterator[None]:
    """Translate minio and urllib3 exceptions raised inside the block into the store's.

    NoSuchKey / NoSuchUpload become ObjectNotFound(subject); rejected parts ValueError;
    every other server or connection failure ObjectStoreError.
    """
    try:
        yield
    except S3Error as exc:
        if exc.code in _NOT_FOUND_CODES:
            raise ObjectNotFound(subject) from exc
        if exc.code in _BAD_PARTS_CODES:
            raise ValueError(f"s3 rejected the parts of {subject!r}: {exc.code}") from exc
        raise ObjectStoreError(f"s3: {exc.code} on {subject!r}: {exc.message}") from exc
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        # MaxRetryError, ProtocolError and friends: the server is down or unreachable.
        raise ObjectStoreError(f"s3: request for {subject!r} failed: {exc}") from exc


def _stream(response: urllib3.BaseHTTPResponse, key: str, chunk_size: int) -> Iterator[bytes]:
    with translate_s3_errors(key):
        yield from response.stream(chunk_size)


def _release(response: urllib3.BaseHTTPResponse) -> None:
    # Back to the pool even when the reader stopped early; close() first drops any
    # unread body, so the connection is never reused mid-response.
    response.close()
    response.release_conn()


class _ChunkStream:
    """A file-like `read(size)` over an iterator of byte chunks.

    minio's put_object pulls exactly one part through `read`; this holds the unread rest
    of at most one chunk besides the part being filled, so memory stays near a part.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes (all that is left when `size` < 0); b"" at the end.

        Fills the whole request in one call: minio appends each read to its part with
        `+=`, which is quadratic if every small chunk came back separately.
        """
        buffer = bytearray()
        while size < 0 or len(buffer) < size:
            if not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._pending = memoryview(chunk).cast("B")
                continue
            take = len(self._pending) if size < 0 else size - len(buffer)
            buffer += self._pending[:take]
            self._pending = self._pending[take:]
        self.bytes_read += len(buffer)
        return bytes(buffer)
