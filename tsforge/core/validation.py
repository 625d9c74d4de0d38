"""Checks every service applies to the text users give: one set of limits, worded alike.

Each returns the problems it finds as field violations (so a caller reports every
problem of a request at once) rather than raising.
"""

from __future__ import annotations

from tsforge.core.errors import FieldViolation

MAX_DISPLAY_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000


def display_name_problems(value: str, field: str, required: bool = True) -> list[FieldViolation]:
    """A display name: 1..200 characters (0..200 when not required), not only spaces."""
    if required and not value.strip():
        return [FieldViolation(field, f"must be 1..{MAX_DISPLAY_NAME_CHARS} characters, not only spaces")]
    if len(value) > MAX_DISPLAY_NAME_CHARS:
        return [FieldViolation(field, f"at most {MAX_DISPLAY_NAME_CHARS} characters, got {len(value)}")]
    return []


def description_problems(value: str, field: str) -> list[FieldViolation]:
    """Free text: at most 10,000 characters."""
    if len(value) > MAX_DESCRIPTION_CHARS:
        return [FieldViolation(field, f"at most {MAX_DESCRIPTION_CHARS} characters, got {len(value)}")]
    return []
