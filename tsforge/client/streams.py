"""The two stream flows every client runs: following a job's events (re-attaching after
the last sequence seen when the stream breaks) and saving a download (checksummed,
written whole or not at all)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import grpc

from tsforge.client.errors import from_rpc_error

# How long following keeps re-attaching while the platform cannot be reached.
REATTACH_SECONDS = 300.0
# Codes of a broken stream (a restarting service, database or edge), not of a refusal.
BROKEN = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)

Reattach = Callable[[grpc.StatusCode, int], None]  # (why the stream broke, last sequence seen)
Progress = Callable[[int, int], None]  # (bytes so far, total)


def follow(
    open_stream: Callable[[int], Iterable],
    after: int = 0,
    on_reattach: Reattach | None = None,
    reattach_seconds: float = REATTACH_SECONDS,
    pause_seconds: float = 1.0,
) -> Iterator:
    """The events of a Watch* stream after `after`, until the job ends.

    `open_stream(after_sequence)` opens the stream; each response carries `.event`
    with a `.sequence`. A stream that breaks (UNAVAILABLE, INTERNAL) is opened again
    after the last event seen, so nothing is missed or repeated; `on_reattach` hears
    of each break. Raises TsforgeError for any other failure, or once breaks have
    lasted `reattach_seconds` without an event in between.
    """
    last, broken_since = after, None
    while True:
        try:
            for response in open_stream(last):
                broken_since = None
                last = response.event.sequence
                yield response.event
            return
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
            if code not in BROKEN:
                raise from_rpc_error(error) from None
            broken_since = broken_since or time.monotonic()
            if time.monotonic() - broken_since > reattach_seconds:
                raise from_rpc_error(error) from None
            if on_reattach:
                on_reattach(code, last)
            time.sleep(pause_seconds)


def save_download(messages: Iterable, destination: Path, progress: Progress | None = None):
    """A download stream (a header with size_bytes and sha256, then chunks) into
    `destination`, through destination.part, renamed only when the SHA-256 matches, so
    nothing half-written is left. Returns the header; `progress(done, total)` hears of
    every chunk. Raises TsforgeError (the call) or ValueError (a corrupted transfer:
    nothing written)."""
    digest, header, done = hashlib.sha256(), None, 0
    partial = destination.with_name(destination.name + ".part")
    try:
        with partial.open("wb") as out:
            try:
                for message in messages:
                    if message.HasField("header"):
                        header = message.header
                        if progress:
                            progress(0, header.size_bytes)
                        continue
                    out.write(message.chunk)
                    digest.update(message.chunk)
                    done += len(message.chunk)
                    if progress and header is not None:
                        progress(done, header.size_bytes)
            except grpc.RpcError as error:
                raise from_rpc_error(error) from None
        if header is None or digest.hexdigest() != header.sha256:
            raise ValueError("download incomplete or corrupted; nothing written")
        partial.replace(destination)
        return header
    finally:
        partial.unlink(missing_ok=True)
