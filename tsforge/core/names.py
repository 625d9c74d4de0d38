"""Resource names ("files/abc123", "runs/{run}/models/{model}") and the ids inside them.

One parser for every service, so the same name is accepted or refused alike
everywhere: each id matches [a-z0-9][a-z0-9-]{0,62} in full (no empty segment, no
trailing newline, nothing outside ASCII).
"""

from __future__ import annotations

import re

from tsforge.core.errors import FieldViolation, InvalidArgument

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_SHOWN = 80  # how much of a refused name an error message repeats


def parse_path(name: str, collections: tuple[str, ...], field: str = "name") -> tuple[str, ...]:
    """The ids of "{collections[0]}/{id}/{collections[1]}/{id}...", in order.

    Raises InvalidArgument naming `field` for any other name.
    """
    parts = name.split("/")
    if (
        len(parts) == 2 * len(collections)
        and all(parts[2 * i] == collection for i, collection in enumerate(collections))
        and all(ID_PATTERN.fullmatch(part) for part in parts[1::2])
    ):
        return tuple(parts[1::2])
    form = "/".join(f"{collection}/{{{collection[:-1]}}}" for collection in collections)
    shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "…"
    raise InvalidArgument(FieldViolation(field, f"must be a resource name like '{form}', got {shown!r}"))


def parse_name(name: str, collection: str, field: str = "name") -> str:
    """The id in "{collection}/{id}". Raises InvalidArgument naming `field` otherwise."""
    return parse_path(name, (collection,), field)[0]


def parse_model_name(name: str, field: str = "name") -> tuple[str, str]:
    """(run id, model id) of a trained model, "runs/{run}/models/{model}"."""
    run_id, model_id = parse_path(name, ("runs", "models"), field)
    return run_id, model_id


def parse_dataset_name(name: str, field: str = "name") -> tuple[str, str]:
    """(session id, dataset id) of "sessions/{session}/datasets/{dataset}"."""
    session_id, dataset_id = parse_path(name, ("sessions", "datasets"), field)
    return session_id, dataset_id
