"""The iterator both stores hand out from read()."""

from __future__ import annotations

from collections.abc import Callable, Iterator


class ClosingChunks(Iterator[bytes]):
    """Chunks from an open file or response that is released exactly once.

    read() opens its source eagerly (so a missing key raises before streaming starts).
    A plain generator would not release that source if it were closed before its first
    chunk; this runs `release` when the chunks run out, when reading fails, or when a
    reader that stops early calls close().
    """

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release: Callable[[], None] | None = release

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the underlying file or connection; safe to call more than once."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> ClosingChunks:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
