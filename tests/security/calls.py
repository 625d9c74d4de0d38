"""Calling any RPC with raw request bytes, whatever its streaming shape, and reading
what came back: the code, the message, the BadRequest field violations, the time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.security.descriptors import Rpc

# Codes that say the server failed, not the caller: never an answer to a request.
SERVER_FAILURES = frozenset(
    {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE}
)
DEADLINE_SECONDS = 20


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    message: str
    seconds: float
    violations: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code.name} in {self.seconds:.2f} s: {self.message[:300]}"


class Caller:
    """Calls by method path over one channel per service."""

    def __init__(self, channels: Mapping[str, grpc.Channel]):
        self._channels = channels

    def call(self, rpc: Rpc, body: bytes, metadata=(), timeout: float = DEADLINE_SECONDS) -> Outcome:
        """Sends `body` as the request (as the first and only message of a client stream)
        and reads every response of a server stream."""
        channel = self._channels[rpc.service]
        started = time.perf_counter()
        try:
            if rpc.client_streaming:
                channel.stream_unary(rpc.path)(iter([body]), metadata=metadata, timeout=timeout)
            elif rpc.server_streaming:
                for _ in channel.unary_stream(rpc.path)(body, metadata=metadata, timeout=timeout):
                    pass
            else:
                channel.unary_unary(rpc.path)(body, metadata=metadata, timeout=timeout)
        except grpc.RpcError as error:
            return Outcome(error.code(), error.details() or "", time.perf_counter() - started, _violations(error))
        return Outcome(grpc.StatusCode.OK, "", time.perf_counter() - started)


def _violations(error: grpc.RpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    found: dict[str, str] = {}
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.update((v.field, v.description) for v in bad_request.field_violations)
    return found
