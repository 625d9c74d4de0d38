"""Page sizes and opaque page tokens, one codec for every list of every service.

A token is base64url of JSON [kind, position]: the kind says which list issued it (a
token of another list is refused), the position where the next page starts. Lists of
rows page by keyset over (create_time, id), newest first; others by a name, a number
or an offset. Tokens are short: anything longer than MAX_TOKEN_CHARS, or not of the
expected shape (deep nesting included), is INVALID_ARGUMENT, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from tsforge.core.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_TOKEN_CHARS = 1024
KEYSET = "k"
OFFSET = "o"

T = TypeVar("T")


def page_size(requested: int, maximum: int = MAX_PAGE_SIZE, default: int = DEFAULT_PAGE_SIZE) -> int:
    """The page size to use. Raises InvalidArgument outside 0..maximum (0 means the default)."""
    if requested < 0 or requested > maximum:
        raise InvalidArgument(FieldViolation("page_size", f"must be between 0 and {maximum}"))
    return requested or default


def encode(kind: str, position: Any) -> str:
    """The token of a list of `kind` whose next page starts at `position` (JSON)."""
    return base64.urlsafe_b64encode(json.dumps([kind, position]).encode()).decode().rstrip("=")


def decode(token: str, kind: str, shape: Callable[[Any], T]) -> T | None:
    """The position in a token of `kind` (None for the first page: an empty token), made
    by `shape` from the decoded JSON; `shape` raises ValueError/TypeError for a position
    it does not take. Raises InvalidArgument for anything but a token this list issued.
    """
    if not token:
        return None
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError("too long")
        found, position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if found == kind:
            return shape(position)
    except (ValueError, TypeError, RecursionError, binascii.Error):
        pass
    raise InvalidArgument(FieldViolation("page_token", "is not a token from a previous response of this list"))


def _keyset(position: Any) -> tuple[datetime, str]:
    time_text, resource_id = position
    if not isinstance(time_text, str) or not isinstance(resource_id, str):
        raise TypeError("keyset position")
    return datetime.fromisoformat(time_text), resource_id


def decode_token(token: str) -> tuple[datetime, str] | None:
    """The (create_time, id) a keyset page token stands for, or None for the first page.

    Raises InvalidArgument for a token this service did not issue.
    """
    return decode(token, KEYSET, _keyset)


def paginate(items: list, limit: int) -> tuple[list, str]:
    """Splits `limit + 1` fetched items into one page and the token for the next.

    Items need `create_time` and `id`; the extra item only says a next page exists.
    """
    if len(items) > limit:
        last = items[limit - 1]
        return items[:limit], encode(KEYSET, [last.create_time.isoformat(), last.id])
    return items, ""


def _offset(position: Any) -> int:
    if type(position) is not int or position < 0:
        raise ValueError("offset")
    return position


def encode_offset(offset: int) -> str:
    return encode(OFFSET, offset)


def decode_offset(token: str) -> int:
    """The offset in an offset token, 0 for the first page. Raises InvalidArgument."""
    offset = decode(token, OFFSET, _offset)
    return 0 if offset is None else offset
