"""Domain errors and their one mapping to gRPC statuses with rich details.

Domain code raises these; tsforge.core.rpc turns them into a
google.rpc.Status carrying BadRequest / PreconditionFailure / QuotaFailure details.
Anything else that escapes a handler is a bug: INTERNAL with a request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

# Every status goes out in the trailers: past the peer's metadata limit (8-16 KiB) the
# whole response is lost, so no error carries more than these (to_grpc_status).
MAX_MESSAGE_CHARS = 500
MAX_FIELD_CHARS = 150
MAX_DESCRIPTION_CHARS = 300
MAX_DETAIL_BYTES = 2500


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every error that is the caller's to fix or a known state of the system."""

    code: int = code_pb2.UNKNOWN

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def details(self) -> list:
        return []


class InvalidArgument(DomainError):
    """The request is malformed; lists one violation per bad field, all at once."""

    code = code_pb2.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str | None = None):
        self.violations = [violations] if isinstance(violations, FieldViolation) else list(violations)
        # The message sums up the first few (the details carry them all, bounded when sent).
        summary = "; ".join(
            f"{_cut(v.field, MAX_FIELD_CHARS)}: {_cut(v.description, MAX_DESCRIPTION_CHARS)}"
            for v in self.violations[:20]
        )
        super().__init__(message or summary)

    def details(self) -> list:
        """One BadRequest, bounded: fields and descriptions cut to MAX_FIELD_CHARS and
        MAX_DESCRIPTION_CHARS, violations up to MAX_DETAIL_BYTES, then one saying how
        many more there were."""
        bounded = error_details_pb2.BadRequest()
        size = 0
        for index, violation in enumerate(self.violations):
            field = _cut(violation.field, MAX_FIELD_CHARS)
            description = _cut(violation.description, MAX_DESCRIPTION_CHARS)
            size += len(field.encode()) + len(description.encode()) + 8
            if size > MAX_DETAIL_BYTES:
                more = len(self.violations) - index
                bounded.field_violations.add(field="request", description=f"{more} more problems are not listed")
                break
            bounded.field_violations.add(field=field, description=description)
        return [bounded]


class NotFound(DomainError):
    """The resource does not exist, or belongs to another tenant (never say which)."""

    code = code_pb2.NOT_FOUND

    def __init__(self, resource_name: str):
        super().__init__(f"{resource_name} not found")
        self.resource_name = resource_name


class AlreadyExists(DomainError):
    code = code_pb2.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The resource is in the wrong state for the request."""

    code = code_pb2.FAILED_PRECONDITION

    def __init__(self, message: str, subject: str = "", violation_type: str = "STATE"):
        super().__init__(message)
        self.subject = subject
        self.violation_type = violation_type

    def details(self) -> list:
        return [
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=self.violation_type, subject=self.subject, description=self.message
                    )
                ]
            )
        ]


class QuotaExceeded(DomainError):
    code = code_pb2.RESOURCE_EXHAUSTED

    def __init__(self, message: str, subject: str):
        super().__init__(message)
        self.subject = subject

    def details(self) -> list:
        return [
            error_details_pb2.QuotaFailure(
                violations=[error_details_pb2.QuotaFailure.Violation(subject=self.subject, description=self.message)]
            )
        ]


class Unauthenticated(DomainError):
    code = code_pb2.UNAUTHENTICATED


class PermissionDenied(DomainError):
    """The caller is who it says, but this credential may not do this."""

    code = code_pb2.PERMISSION_DENIED


class Unavailable(DomainError):
    """A dependency (database, object store, another service) cannot be reached: the
    caller may retry the same request, after `retry_seconds` (sent as RetryInfo)."""

    code = code_pb2.UNAVAILABLE

    def __init__(self, message: str, retry_seconds: float = 1.0):
        super().__init__(message)
        self.retry_seconds = retry_seconds

    def details(self) -> list:
        info = error_details_pb2.RetryInfo()
        info.retry_delay.FromTimedelta(timedelta(seconds=self.retry_seconds))
        return [info]


def dependency_failure(error: BaseException) -> Unavailable | None:
    """The UNAVAILABLE an infrastructure failure is to the caller (the object store or
    PostgreSQL cannot be reached), or None for any other exception. The one mapping of
    outages: every service, every RPC, every stream goes through it."""
    from sqlalchemy import exc as sqlalchemy_errors

    from tsforge.core.storage import ObjectStoreError

    if isinstance(error, ObjectStoreError):
        return Unavailable("the object store is unavailable; retry shortly")
    if isinstance(error, sqlalchemy_errors.DBAPIError) and error.connection_invalidated:
        return Unavailable("the database connection was lost; retry shortly")
    if isinstance(error, sqlalchemy_errors.OperationalError | sqlalchemy_errors.InterfaceError):
        return Unavailable("the database is unavailable; retry shortly")
    return None


def to_grpc_status(error: DomainError) -> grpc.Status:
    """The gRPC status (code, message and packed details) for a domain error.

    Bounded, whatever the error holds: the status travels in the trailers, and trailers
    past the peer's metadata limit (8-16 KiB) lose the whole response. So the message
    keeps its first MAX_MESSAGE_CHARS characters, each field violation's field and
    description their first MAX_FIELD_CHARS / MAX_DESCRIPTION_CHARS, and the
    violations stop at MAX_DETAIL_BYTES (a last one says how many were left out).
    """
    details = []
    for detail in error.details():
        packed = any_pb2.Any()
        packed.Pack(_bounded_detail(detail))
        details.append(packed)
    message = _cut(error.message, MAX_MESSAGE_CHARS)
    return rpc_status.to_status(status_pb2.Status(code=error.code, message=message, details=details))


def _bounded_detail(detail):
    """PreconditionFailure and QuotaFailure cut like BadRequest (InvalidArgument.details)."""
    if isinstance(detail, (error_details_pb2.PreconditionFailure, error_details_pb2.QuotaFailure)):
        bounded = type(detail)()
        bounded.CopyFrom(detail)
        for violation in bounded.violations[:10]:
            violation.subject = _cut(violation.subject, MAX_FIELD_CHARS)
            violation.description = _cut(violation.description, MAX_DESCRIPTION_CHARS)
        del bounded.violations[10:]
        return bounded
    return detail


def internal_status(request_id: str) -> grpc.Status:
    """The status for an unexpected failure: no internals, but the id to find the log."""
    return rpc_status.to_status(
        status_pb2.Status(
            code=code_pb2.INTERNAL,
            message=f"internal error; request id {request_id}",
            details=[_packed(error_details_pb2.RequestInfo(request_id=request_id))],
        )
    )


def _packed(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed
