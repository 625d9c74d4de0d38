"""Resource names ("files/abc123") and the ids inside them."""

from __future__ import annotations

import re

from tsforge.core.errors import FieldViolation, InvalidArgument

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def parse_name(name: str, collection: str, field: str = "name") -> str:
    """The id in "{collection}/{id}". Raises InvalidArgument naming `field` otherwise."""
    prefix = collection + "/"
    resource_id = name[len(prefix) :] if name.startswith(prefix) else ""
    if not _ID.match(resource_id):
        raise InvalidArgument(
            FieldViolation(field, f"must be a resource name like '{collection}/{{id}}', got {name!r}")
        )
    return resource_id
