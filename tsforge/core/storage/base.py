"""The object store interface every tsforge service codes against.

Big data (uploaded files, datasets, models, plots) lives in an object store; Postgres
only holds its keys. Two implementations satisfy this interface and pass the same
contract tests: a local directory and S3/MinIO.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

MIN_PART_NUMBER = 1
MAX_PART_NUMBER = 10_000


class ObjectNotFound(Exception):
    """The key (or, for multipart calls, the upload id) does not exist."""


class ObjectStoreError(Exception):
    """The store is unreachable or failed; callers map this to UNAVAILABLE."""


class ObjectStore(Protocol):
    """A flat namespace of immutable byte objects addressed by "/"-separated keys.

    Keys are relative paths: non-empty, no leading "/", no empty, "." or ".."
    segments (see `validate_key`); a bad key raises ValueError. Every method may raise
    ObjectStoreError when the store itself fails.
    """

    min_part_size: int
    """Smallest multipart part the store accepts, except the last (S3: 5 MiB)."""

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write the object from `chunks` without holding them all; return its size.

        Atomic: readers see the old object or the whole new one, and a put that fails
        (including an exception raised by `chunks`, which propagates unchanged) leaves
        no new object behind.
        """
        ...

    def read(self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream bytes [offset, offset + length) in chunks of at most `chunk_size`.

        `length=None` reads to the end; a range past the end is cut short (an offset at
        or past the end yields nothing). Raises ObjectNotFound when called, before the
        first chunk, so callers can map it before they start streaming.
        """
        ...

    def size(self, key: str) -> int:
        """Return the object's size in bytes; raises ObjectNotFound."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether the object exists."""
        ...

    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; return how many.

        Raises ValueError for an empty prefix: wiping the whole store is never what a
        caller means.
        """
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Yield the keys starting with `prefix` (a plain string prefix), sorted."""
        ...

    def start_multipart(self, key: str) -> str:
        """Begin a multipart upload to `key`; return its upload id.

        Nothing is visible under `key` until `complete_multipart`.
        """
        ...

    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        """Store one part (numbers 1..10000) and return its etag.

        Uploading the same part number again replaces it. Raises ValueError for a part
        number out of range and ObjectNotFound for an unknown upload.
        """
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        """Join `parts` ((part_number, etag), ascending) into the object, atomically.

        Raises ObjectNotFound for an unknown upload and ValueError when the parts are
        out of order, were not uploaded, carry a wrong etag, or (except the last) are
        smaller than `min_part_size`.
        """
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; aborting an unknown upload is not an error."""
        ...


def validate_key(key: str) -> str:
    """Return `key` if it is a well-formed object key; raise ValueError otherwise.

    Both stores apply the same rules so a key that works in tests against the local
    store also works against S3, and no key can escape a local store's root.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"object key must be relative: {key!r}")
    if "\x00" in key:
        raise ValueError(f"object key must not contain NUL: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"object key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it can prefix a valid key; raise ValueError otherwise.

    Only the complete segments are checked: "runs/" and "runs/ab" are fine, "../x" and
    "/runs" are not.
    """
    if not isinstance(prefix, str):
        raise ValueError("prefix must be a string")
    directory = prefix.rpartition("/")[0]
    if prefix.startswith("/") or (directory and not _segments_valid(directory)):
        raise ValueError(f"invalid key prefix: {prefix!r}")
    return prefix


def validate_part_number(part_number: int) -> int:
    """Return `part_number` if it is within 1..10000; raise ValueError otherwise."""
    if not MIN_PART_NUMBER <= part_number <= MAX_PART_NUMBER:
        raise ValueError(f"part number must be within {MIN_PART_NUMBER}..{MAX_PART_NUMBER}, got {part_number}")
    return part_number


def validate_range(offset: int, length: int | None, chunk_size: int) -> None:
    """Raise ValueError for a negative offset or length or a non-positive chunk size."""
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if length is not None and length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size}")


def validate_part_order(parts: Sequence[tuple[int, str]]) -> None:
    """Raise ValueError unless `parts` is non-empty with strictly ascending numbers."""
    if not parts:
        raise ValueError("a multipart upload needs at least one part")
    numbers = [validate_part_number(number) for number, _ in parts]
    if any(later <= earlier for earlier, later in zip(numbers, numbers[1:])):
        raise ValueError(f"parts must be in strictly ascending order, got {numbers}")


def _segments_valid(path: str) -> bool:
    return all(segment not in ("", ".", "..") for segment in path.split("/"))
