"""Opaque page tokens for keyset pagination over (create_time, id), newest first."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from tsforge.core.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    """The page size to use. Raises InvalidArgument outside 0..MAX_PAGE_SIZE (0 means the default)."""
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidArgument(FieldViolation("page_size", f"must be between 0 and {MAX_PAGE_SIZE}"))
    return requested or DEFAULT_PAGE_SIZE


def encode_token(create_time: datetime, resource_id: str) -> str:
    raw = json.dumps([create_time.isoformat(), resource_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[datetime, str] | None:
    """The position a page token stands for, or None for the first page.

    Raises InvalidArgument for a token this service did not issue.
    """
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        time_text, resource_id = json.loads(raw)
        return datetime.fromisoformat(time_text), str(resource_id)
    except (ValueError, TypeError):
        raise InvalidArgument(FieldViolation("page_token", "is not a token from a previous response")) from None


def paginate(items: list, limit: int) -> tuple[list, str]:
    """Splits `limit + 1` fetched items into one page and the token for the next.

    Items need `create_time` and `id`; the extra item only says a next page exists.
    """
    if len(items) > limit:
        last = items[limit - 1]
        return items[:limit], encode_token(last.create_time, last.id)
    return items, ""
