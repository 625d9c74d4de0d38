"""Failed calls as typed exceptions that carry what the service said: the gRPC code,
the message, every field violation, quota or precondition, and the request id."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class Violation:
    """One problem the service named: a field (BadRequest), a quota subject
    (QuotaFailure) or a precondition subject with its type (PreconditionFailure)."""

    subject: str
    description: str
    type: str = ""


@dataclass
class TsforgeError(Exception):
    """A call the platform refused or could not answer."""

    code: grpc.StatusCode
    message: str
    violations: list[Violation] = field(default_factory=list)
    request_id: str = ""

    def __str__(self) -> str:
        lines = [f"{self.code.name}: {self.message}"]
        lines += [f"  - {v.subject}: {v.description}" for v in self.violations if v.description != self.message]
        return "\n".join(lines)


class InvalidArgument(TsforgeError):
    """The request is malformed; `violations` names every bad field."""


class NotFound(TsforgeError):
    """The resource does not exist (or belongs to another tenant)."""


class FailedPrecondition(TsforgeError):
    """The resource is in the wrong state for the request."""


class QuotaExceeded(TsforgeError):
    """A per-tenant quota or limit was reached; `violations` names it."""


class Unauthenticated(TsforgeError):
    """The token is missing, malformed, expired or signed with another secret."""


class Unavailable(TsforgeError):
    """The platform (or a dependency of it) cannot be reached right now; retry later."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: QuotaExceeded,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
}


def from_rpc_error(error: grpc.RpcError) -> TsforgeError:
    """The typed exception of a failed call, with the rich details unpacked."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    violations: list[Violation] = []
    request_id = ""
    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [Violation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            quota = error_details_pb2.QuotaFailure()
            detail.Unpack(quota)
            violations += [Violation(v.subject, v.description) for v in quota.violations]
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            violations += [Violation(v.subject, v.description, v.type) for v in failure.violations]
        elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
            info = error_details_pb2.RequestInfo()
            detail.Unpack(info)
            request_id = info.request_id
    if not request_id and hasattr(error, "trailing_metadata"):
        request_id = dict(error.trailing_metadata() or ()).get("x-request-id", "")
    return _BY_CODE.get(code, TsforgeError)(code, message or "", violations, request_id)
