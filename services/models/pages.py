"""Page tokens of the registry's lists: models by name, versions by number (keyset)."""

from __future__ import annotations

import base64
import json

from tsforge.core.errors import FieldViolation, InvalidArgument


def encode(kind: str, position) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, position]).encode()).decode().rstrip("=")


def decode(token: str, kind: str, type_):
    """The position in a token of `kind`, None for the first page. Raises InvalidArgument."""
    if not token:
        return None
    try:
        found, position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if found == kind and isinstance(position, type_):
            return position
    except (ValueError, TypeError):
        pass
    raise InvalidArgument(FieldViolation("page_token", "is not a token from a previous response")) from None
