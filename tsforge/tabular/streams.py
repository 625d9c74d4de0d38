"""Adapters between chunk iterators (how the object store and gRPC stream bytes) and
file-like objects (what parsers and serializers want)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator


class ChunkReader(io.RawIOBase):
    """A read-only binary file over an iterator of byte chunks; holds one chunk at most."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def buffered(chunks: Iterable[bytes], size: int = 1 << 20) -> io.BufferedReader:
    return io.BufferedReader(ChunkReader(chunks), buffer_size=size)


def file_chunks(handle, size: int = 1 << 20) -> Iterator[bytes]:
    """The rest of an open binary file, in chunks."""
    while block := handle.read(size):
        yield block
