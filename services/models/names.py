"""Resource names of the registry: "registeredModels/{id}", ".../versions/{n}", "...@{alias}"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tsforge.core.errors import FieldViolation, InvalidArgument

_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
ALIAS = re.compile(r"[a-z][a-z0-9-]{0,62}")
# ASCII digits only ("٣" is a digit to str.isdigit), and within a PostgreSQL bigint.
_NUMBER = re.compile(r"[1-9][0-9]{0,18}")
_MAX_VERSION = 2**63 - 1
COLLECTION = "registeredModels/"


@dataclass(frozen=True)
class VersionRef:
    """A version as a request names it: by number, or by an alias to resolve."""

    model: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return (
            model_version_name(self.model, self.version)
            if self.version is not None
            else f"{COLLECTION}{self.model}@{self.alias}"
        )


def registered_model_name(model: str) -> str:
    return f"{COLLECTION}{model}"


def model_version_name(model: str, version: int) -> str:
    return f"{COLLECTION}{model}/versions/{version}"


def parse_model(name: str, field: str = "name") -> str:
    """The id in "registeredModels/{id}". Raises InvalidArgument naming `field`."""
    model = name[len(COLLECTION) :] if name.startswith(COLLECTION) else ""
    if not _ID.fullmatch(model):
        raise InvalidArgument(
            FieldViolation(
                field, f"must be 'registeredModels/{{id}}' with an id matching [a-z][a-z0-9-]{{0,62}}, got {name!r}"
            )
        )
    return model


def parse_version(name: str, field: str = "name", allow_alias: bool = True) -> VersionRef:
    """ "registeredModels/{id}/versions/{n}" or, when allowed, "registeredModels/{id}@{alias}".

    Raises InvalidArgument naming `field`.
    """
    if "@" in name and allow_alias:
        model_part, _, alias = name.partition("@")
        model = parse_model(model_part, field)
        check_alias(alias, field)
        return VersionRef(model, alias=alias)
    model_part, _, number = name.rpartition("/versions/")
    if model_part and _NUMBER.fullmatch(number) and int(number) <= _MAX_VERSION:
        return VersionRef(parse_model(model_part, field), version=int(number))
    forms = "'registeredModels/{id}/versions/{n}'" + (" or 'registeredModels/{id}@{alias}'" if allow_alias else "")
    raise InvalidArgument(FieldViolation(field, f"must be {forms}, got {name!r}"))


def check_alias(alias: str, field: str = "alias") -> str:
    if not ALIAS.fullmatch(alias):
        raise InvalidArgument(FieldViolation(field, f"must match [a-z][a-z0-9-]{{0,62}}, got {alias!r}"))
    return alias
