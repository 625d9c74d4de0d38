"""The current time, and Python datetimes and timedeltas as protobuf Timestamp and Duration messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp


def utc_now() -> datetime:
    """Now, as an aware UTC datetime (what every row stores)."""
    return datetime.now(UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    """The Timestamp of an aware datetime; None stays None (an unset field)."""
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def duration(value: timedelta) -> Duration:
    message = Duration()
    message.FromTimedelta(value)
    return message
