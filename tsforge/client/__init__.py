"""The Python client of the platform (see client.py): uploads, sessions, runs followed
live, evaluations, the registry and Predict with pandas DataFrames, typed errors."""

from tsforge.client.client import Client
from tsforge.client.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    QuotaExceeded,
    TsforgeError,
    Unauthenticated,
    Unavailable,
    Violation,
)

__all__ = [
    "Client",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "QuotaExceeded",
    "TsforgeError",
    "Unauthenticated",
    "Unavailable",
    "Violation",
]
