"""An object store in a local directory: the default when no S3 server is configured."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

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

# Hidden top-level directories under the root. Keys may not start with them, so list()
# never shows half-written files or multipart parts.
_TMP_DIR = ".tmp"
_STAGING_DIR = ".multipart"
_RESERVED = frozenset({_TMP_DIR, _STAGING_DIR})

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_UPLOAD_KEY_FILE = "key"
_COPY_BLOCK = 1 << 20
_PUBLISH_ATTEMPTS = 3


class LocalObjectStore:
    """Objects as files under `root`; keys are paths relative to it.

    Writes go to a temporary file on the same filesystem and are renamed into place, so
    readers never see a partial object. Multipart parts are staged under
    `root/.multipart/<upload_id>/`. Unlike S3, a key cannot be both an object and the
    directory of other objects ("a" and "a/b"); such a put raises ValueError.
    """

    def __init__(self, root: Path) -> None:
        """Use (and create if needed) the directory `root`; raises ObjectStoreError."""
        self.root = Path(root)
        self.min_part_size = 1
        self._tmp_dir = self.root / _TMP_DIR
        self._staging_dir = self.root / _STAGING_DIR
        with _store_failures(f"creating {self.root}"):
            self._tmp_dir.mkdir(parents=True, exist_ok=True)
            self._staging_dir.mkdir(parents=True, exist_ok=True)

    @property
    def staging_dir(self) -> Path:
        """Where unfinished multipart uploads keep their parts."""
        return self._staging_dir

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write `chunks` to `key` atomically and return the size written.

        Raises ValueError for a bad key or one that collides with a directory of other
        objects, ObjectStoreError when the disk fails; errors from `chunks` propagate.
        """
        path = self._path(key)
        tmp, out = self._open_tmp()
        try:
            with out:
                size = _write_chunks(out, chunks)
                _sync(out)
            self._publish(tmp, path, key)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    def read(self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream a byte range of `key`; raises ObjectNotFound now, not on first chunk.

        The returned iterator closes the file when exhausted; call its close() to stop
        early.
        """
        path = self._path(key)
        validate_range(offset, length, chunk_size)
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed by the generator below
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise ObjectStoreError(f"local object store: opening {key!r} failed: {exc}") from exc
        try:
            with _store_failures(f"reading {key!r}"):
                source.seek(offset)
        except BaseException:
            source.close()
            raise
        return ClosingChunks(_read_range(source, key, length, chunk_size), source.close)

    def size(self, key: str) -> int:
        """Return the size of `key` in bytes; raises ObjectNotFound."""
        path = self._path(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise ObjectStoreError(f"local object store: stat {key!r} failed: {exc}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return info.st_size

    def exists(self, key: str) -> bool:
        """Return whether `key` holds an object."""
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete `key` if it exists."""
        self._delete(self._path(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` and return how many were deleted.

        Raises ValueError for an empty or malformed prefix.
        """
        if not prefix:
            raise ValueError("refusing to delete with an empty prefix")
        return sum(self._delete(self._path(key)) for key in self.list(prefix))

    def list(self, prefix: str) -> Iterator[str]:
        """Return the keys starting with `prefix`, sorted; raises ValueError for a bad prefix."""
        validate_prefix(prefix)
        directory = prefix.rpartition("/")[0]
        if directory.split("/")[0] in _RESERVED:
            return iter(())
        base = self.root.joinpath(*directory.split("/")) if directory else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            relative = Path(dirpath).relative_to(self.root).as_posix()
            stem = "" if relative == "." else relative + "/"
            # Prune here rather than filter afterwards: never walk staging or unrelated trees.
            dirnames[:] = [
                name
                for name in dirnames
                if not (stem == "" and name in _RESERVED) and _may_hold(f"{stem}{name}/", prefix)
            ]
            keys.extend(stem + name for name in filenames if (stem + name).startswith(prefix))
        return iter(sorted(keys))

    def start_multipart(self, key: str) -> str:
        """Begin a multipart upload to `key` and return its upload id."""
        self._path(key)
        upload_id = uuid.uuid4().hex
        upload_dir = self._staging_dir / upload_id
        with _store_failures("starting a multipart upload"):
            upload_dir.mkdir(parents=True)
            (upload_dir / _UPLOAD_KEY_FILE).write_text(key, encoding="utf-8")
        return upload_id

    def upload_part(self, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        """Stage one part (replacing an earlier one with that number); return its etag.

        Raises ValueError for a part number outside 1..10000, ObjectNotFound for an
        unknown upload.
        """
        validate_part_number(part_number)
        upload_dir = self._upload_dir(key, upload_id)
        try:
            fd, tmp_name = tempfile.mkstemp(dir=upload_dir, prefix=".part-")
        except FileNotFoundError as exc:  # aborted meanwhile
            raise ObjectNotFound(upload_id) from exc
        except OSError as exc:
            raise ObjectStoreError(f"local object store: staging a part failed: {exc}") from exc
        tmp = Path(tmp_name)
        # The etag names this version of the part (a re-upload gets a new one); parts
        # are not hashed, as only complete_multipart reads etags and matches them by name.
        etag = uuid.uuid4().hex
        try:
            with _store_failures("staging a part"), os.fdopen(fd, "wb") as out:
                out.write(data)
                _sync(out)
            # A rename, so readers never see half a part.
            with _store_failures("staging a part"):
                os.replace(tmp, upload_dir / _part_name(part_number, etag))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        for earlier in upload_dir.glob(_part_name(part_number, "*")):  # replaced by this one
            if earlier.name != _part_name(part_number, etag):
                earlier.unlink(missing_ok=True)
        return etag

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        """Join the staged `parts` into `key` atomically and drop the staging directory.

        Raises ObjectNotFound for an unknown upload, ValueError for parts out of order,
        missing, or with a wrong etag.
        """
        validate_part_order(parts)
        upload_dir = self._upload_dir(key, upload_id)
        path = self._path(key)
        tmp, out = self._open_tmp()
        try:
            with out:
                for part_number, etag in parts:
                    _append_part(out, upload_dir, part_number, etag)
                _sync(out)
            self._publish(tmp, path, key)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        shutil.rmtree(upload_dir, ignore_errors=True)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop the upload and its staged parts; an unknown upload is ignored."""
        try:
            upload_dir = self._upload_dir(key, upload_id)
        except ObjectNotFound:
            return
        shutil.rmtree(upload_dir, ignore_errors=True)

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/")[0] in _RESERVED:
            raise ValueError(f"object key uses a reserved directory: {key!r}")
        return self.root.joinpath(*key.split("/"))

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        self._path(key)
        # The id becomes a path segment: accept only what start_multipart hands out.
        if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
            raise ObjectNotFound(upload_id)
        upload_dir = self._staging_dir / upload_id
        try:
            owner = (upload_dir / _UPLOAD_KEY_FILE).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(upload_id) from exc
        except OSError as exc:
            raise ObjectStoreError(f"local object store: reading upload failed: {exc}") from exc
        if owner != key:  # as in S3, an upload id is only valid with its own key
            raise ObjectNotFound(upload_id)
        return upload_dir

    def _open_tmp(self) -> tuple[Path, BinaryIO]:
        with _store_failures("creating a temporary file"):
            fd, name = tempfile.mkstemp(dir=self._tmp_dir)
            return Path(name), os.fdopen(fd, "wb")

    def _publish(self, tmp: Path, path: Path, key: str) -> None:
        """Rename the finished `tmp` to `path`, creating parent directories."""
        for attempt in range(1, _PUBLISH_ATTEMPTS + 1):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
                return
            except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
                raise ValueError(f"object key {key!r} collides with a directory of other objects") from exc
            except FileNotFoundError as exc:
                # A concurrent delete pruned the empty parent between mkdir and replace.
                if attempt == _PUBLISH_ATTEMPTS:
                    raise ObjectStoreError(f"local object store: publishing {key!r} failed") from exc
            except OSError as exc:
                raise ObjectStoreError(f"local object store: publishing {key!r} failed: {exc}") from exc

    def _delete(self, path: Path) -> bool:
        """Unlink `path` and prune emptied parents; return whether a file was removed."""
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except OSError as exc:
            raise ObjectStoreError(f"local object store: deleting failed: {exc}") from exc
        # Empty directories are not objects, but left behind they pile up forever.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        return True


@contextmanager
def _store_failures(action: str) -> Iterator[None]:
    """Turn unexpected filesystem errors into ObjectStoreError."""
    try:
        yield
    except OSError as exc:
        raise ObjectStoreError(f"local object store: {action} failed: {exc}") from exc


def _write_chunks(out: BinaryIO, chunks: Iterable[bytes]) -> int:
    size = 0
    for chunk in chunks:  # the caller's own errors propagate unchanged
        with _store_failures("writing"):
            size += out.write(chunk)
    return size


def _sync(out: BinaryIO) -> None:
    # Flush to disk before the rename, so a crash cannot publish an empty file.
    with _store_failures("syncing"):
        out.flush()
        os.fsync(out.fileno())


def _append_part(out: BinaryIO, upload_dir: Path, part_number: int, etag: str) -> None:
    """Copy the staged version `etag` of one part onto the end of `out` (in the kernel)."""
    try:
        source = open(upload_dir / _part_name(part_number, etag.strip('"')), "rb")  # noqa: SIM115 - closed below
    except (FileNotFoundError, ValueError) as exc:
        if any(upload_dir.glob(_part_name(part_number, "*"))):
            raise ValueError(f"part {part_number}: etag does not match the uploaded part") from exc
        raise ValueError(f"part {part_number} was not uploaded") from exc
    with source, _store_failures("joining parts"):
        out.flush()
        if not _copy_in_kernel(source, out):
            shutil.copyfileobj(source, out, _COPY_BLOCK)


def _copy_in_kernel(source: BinaryIO, out: BinaryIO) -> bool:
    """Append all of `source` to `out` with copy_file_range; False where the kernel or
    the filesystem cannot (nothing was copied then)."""
    size = os.fstat(source.fileno()).st_size
    copied = 0
    try:
        while copied < size:
            step = os.copy_file_range(source.fileno(), out.fileno(), size - copied)
            if step == 0:
                break
            copied += step
    except OSError:
        if copied:
            raise
        return False
    out.seek(0, os.SEEK_END)
    return True


def _read_range(source: BinaryIO, key: str, length: int | None, chunk_size: int) -> Iterator[bytes]:
    remaining = length
    while remaining is None or remaining > 0:
        with _store_failures(f"reading {key!r}"):
            chunk = source.read(chunk_size if remaining is None else min(chunk_size, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _part_name(part_number: int, etag: str) -> str:
    """A staged part's file: its number and its etag ("*" for every version)."""
    if etag != "*" and not _UPLOAD_ID.fullmatch(etag):
        raise ValueError(f"not an etag of this store: {etag!r}")
    return f"{part_number:05d}.{etag}"


def _may_hold(directory: str, prefix: str) -> bool:
    """Whether keys under `directory` (ending in "/") can start with `prefix`."""
    return directory.startswith(prefix) or prefix.startswith(directory)
