"""Checksumming and profiling bytes as they flow past, on a thread of their own.

A streaming upload feeds the scanner while the same bytes go to the object store, so
the file is read once. A chunked upload's chunks feed a scan kept by the replica that
takes them (LiveScans); its completion uses that scan when the scan saw every byte in
order, and otherwise (chunks taken by another replica, a restart) scans the stored
object. The queue between feeder and profiler is bounded in bytes, so memory stays at
a few MiB per scan whatever the file size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from tsforge.core.lru import Lru
from tsforge.tabular.profiling import FileProfile, profile_csv

QUEUED_PIECES = 8
PIECE_BYTES = 1 << 20  # chunks are queued in pieces of at most this, so at most 8 MiB wait
LIVE_SCANS = 16  # chunked uploads a replica scans at once; more are scanned at completion


class Scan:
    def __init__(self):
        self.digest = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_PIECES)
        self._profile: FileProfile | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="upload-scan", daemon=True)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        """Takes the next bytes; waits while the profiler is a few MiB behind."""
        self.digest.update(chunk)
        if len(chunk) <= PIECE_BYTES:
            self._chunks.put(chunk)
            return
        for start in range(0, len(chunk), PIECE_BYTES):
            self._chunks.put(chunk[start : start + PIECE_BYTES])

    def finish(self) -> None:
        """Marks the end of the bytes and waits for the profile."""
        self._chunks.put(None)
        self._thread.join()

    def result(self) -> tuple[FileProfile, str]:
        """(profile, SHA-256 hex) after finish(). Raises CsvProblem, or what the profiler raised."""
        if self._failure is not None:
            raise self._failure
        assert self._profile is not None  # finish() waited for the profiler
        return self._profile, self.digest.hexdigest()

    def _stream(self) -> Iterator[bytes]:
        while (chunk := self._chunks.get()) is not None:
            yield chunk

    def _run(self) -> None:
        stream = self._stream()
        try:
            self._profile = profile_csv(stream)
        except BaseException as failure:  # handed to the caller by result()
            self._failure = failure
        for _ in stream:  # a profiler that stopped early must not block the feeder
            pass


@dataclass
class _LiveScan:
    scan: Scan
    fed: int  # bytes claimed for the scan, from byte 0 of the file


class LiveScans:
    """The scans of chunked uploads whose chunks this replica took, in order, from byte 0.

    A scan is fed only a chunk that starts where it stopped, after the chunk was
    committed; anything else (a chunk another replica took, chunks racing) drops it,
    and completion then scans the stored object. At most `limit` are kept: the least
    recently fed is dropped for a new one.
    """

    def __init__(self, limit: int = LIVE_SCANS):
        self._scans: Lru[str, _LiveScan] = Lru(limit)
        self._lock = threading.Lock()  # a chunk's check and claim are one step

    def feed(self, upload_id: str, offset: int, chunk: bytes) -> None:
        """Feeds a committed chunk that starts at `offset` to the upload's scan (one is
        started at offset 0); drops the scan when the chunk does not follow its bytes."""
        dropped = []
        with self._lock:
            live = self._scans.get(upload_id)
            if live is None and offset == 0:
                live = _LiveScan(Scan(), 0)
                dropped += [evicted.scan for evicted in self._scans.put(upload_id, live)]
            elif live is not None and live.fed != offset:
                dropped.append(live.scan)
                self._scans.pop(upload_id)
                live = None
            if live is not None:
                live.fed = offset + len(chunk)  # claimed before feeding, so a racing chunk drops it
        for scan in dropped:
            scan.finish()
        if live is not None:
            live.scan.feed(chunk)

    def take(self, upload_id: str, size: int) -> Scan | None:
        """The upload's finished scan when it saw exactly its `size` bytes, else None."""
        with self._lock:
            live = self._scans.pop(upload_id)
        if live is None:
            return None
        live.scan.finish()
        return live.scan if live.fed == size else None

    def drop(self, upload_id: str) -> None:
        self.take(upload_id, -1)


__all__ = ["LiveScans", "Scan"]
