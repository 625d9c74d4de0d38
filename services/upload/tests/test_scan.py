"""Scans of chunked uploads kept by the replica that takes their chunks."""

import hashlib

from services.upload.scan import LiveScans
from tsforge.tabular.profiling import profile_csv

DATA = b"time;v\n" + b"".join(b"2000-06-05 %02d:00:00;%d\n" % (h, h) for h in range(24))


def _chunks(size: int) -> list[tuple[int, bytes]]:
    return [(offset, DATA[offset : offset + size]) for offset in range(0, len(DATA), size)]


def test_a_scan_fed_every_chunk_in_order_gives_checksum_and_profile():
    live = LiveScans()
    for offset, chunk in _chunks(50):
        live.feed("u", offset, chunk)
    profile, sha256 = live.take("u", len(DATA)).result()
    assert sha256 == hashlib.sha256(DATA).hexdigest()
    assert profile == profile_csv([DATA])
    assert live.take("u", len(DATA)) is None  # taken once


def test_a_scan_that_missed_bytes_is_not_used():
    live = LiveScans()
    chunks = _chunks(50)
    for offset, chunk in chunks[:2] + chunks[3:]:  # chunk 2 went to another replica
        live.feed("u", offset, chunk)
    assert live.take("u", len(DATA)) is None
    for offset, chunk in chunks[1:]:  # chunks from the middle: never started
        live.feed("v", offset, chunk)
    assert live.take("v", len(DATA)) is None


def test_a_chunk_fed_twice_or_a_short_count_drops_the_scan():
    live = LiveScans()
    chunks = _chunks(50)
    for offset, chunk in chunks[:3]:
        live.feed("u", offset, chunk)
    live.feed("u", *chunks[2])  # its commit failed and the client sent it again
    for offset, chunk in chunks[3:]:
        live.feed("u", offset, chunk)
    assert live.take("u", len(DATA)) is None
    for offset, chunk in chunks:
        live.feed("w", offset, chunk)
    assert live.take("w", len(DATA) + 1) is None  # the database counted other bytes


def test_at_most_limit_scans_are_kept_least_recently_fed_first_out():
    live = LiveScans(limit=2)
    first, *rest = _chunks(50)
    for upload in ("a", "b", "c"):
        live.feed(upload, *first)
    for upload in ("b", "c"):
        for offset, chunk in rest:
            live.feed(upload, offset, chunk)
    assert live.take("a", len(DATA)) is None
    assert live.take("b", len(DATA)) is not None and live.take("c", len(DATA)) is not None
