"""Checksumming and profiling bytes as they flow past, on a thread of their own.

A streaming upload feeds the scanner while the same bytes go to the object store, so
the file is read once; completing a chunked upload feeds it from the store. The queue
between the two is bounded, so memory stays at a few chunks whatever the file size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator

from services.upload.profiling import FileProfile, profile_csv

QUEUED_CHUNKS = 16


class Scan:
    def __init__(self):
        self.digest = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._profile: FileProfile | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="upload-scan", daemon=True)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self._chunks.put(chunk)

    def finish(self) -> None:
        """Marks the end of the bytes and waits for the profile."""
        self._chunks.put(None)
        self._thread.join()

    def result(self) -> tuple[FileProfile, str]:
        """(profile, SHA-256 hex) after finish(). Raises CsvProblem, or what the profiler raised."""
        if self._failure is not None:
            raise self._failure
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


__all__ = ["Scan"]
