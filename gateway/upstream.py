"""Calls to the services behind the gateway: raw bytes over one grpc.aio channel each.

Messages pass through as serialized bytes (no serializer on either side), so grpc-web is
forwarded without re-encoding; REST serializes its transcoded messages itself.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import grpc
from multidict import CIMultiDictProxy

from gateway.routes import MethodRoute

REQUEST_ID_HEADER = "x-request-id"
# Request headers that become gRPC metadata on the upstream call.
FORWARDED_HEADERS = ("authorization", REQUEST_ID_HEADER)
_TIMEOUT = re.compile(r"(\d{1,8})([HMSmun])")
_TIMEOUT_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


class BadTimeout(ValueError):
    """A grpc-timeout header that is not `<1..8 digits><H|M|S|m|u|n>`."""


@dataclass(frozen=True)
class CallOptions:
    """What the gateway passes from the HTTP request to the upstream call."""

    metadata: tuple[tuple[str, str], ...]
    timeout: float | None  # seconds, from grpc-timeout; None: no deadline
    request_id: str

    @classmethod
    def from_headers(cls, headers: CIMultiDictProxy[str]) -> CallOptions:
        """Authorization and x-request-id (one is made when absent) as metadata, grpc-timeout as deadline.

        Raises BadTimeout for a malformed grpc-timeout.
        """
        request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        metadata = [(REQUEST_ID_HEADER, request_id)]
        metadata += [
            (name, headers[name]) for name in FORWARDED_HEADERS if name != REQUEST_ID_HEADER and name in headers
        ]
        timeout = None
        raw = headers.get("grpc-timeout")
        if raw is not None:
            found = _TIMEOUT.fullmatch(raw.strip())
            if found is None:
                raise BadTimeout(f"grpc-timeout {raw!r} is not <digits><H|M|S|m|u|n>")
            timeout = int(found.group(1)) * _TIMEOUT_UNIT_SECONDS[found.group(2)]
        return cls(tuple(metadata), timeout, request_id)


class Upstreams:
    """One channel per service address, opened on first use inside the serving event loop."""

    def __init__(self, addresses: Mapping[str, str], max_message_bytes: int):
        self._addresses = dict(addresses)
        self._options = (
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            # A service started after the gateway (or restarted) is reached within a
            # second or two, not after gRPC's default backoff of up to two minutes.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.min_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2000),
        )
        self._channels: dict[str, grpc.aio.Channel] = {}

    def address(self, service: str) -> str | None:
        return self._addresses.get(service)

    def start(self, route: MethodRoute, requests: bytes | AsyncIterator[bytes], options: CallOptions) -> grpc.aio.Call:
        """Starts the upstream call; single requests as bytes, client streams as an async iterator.

        Raises KeyError when no address is configured for the route's service.
        """
        channel = self._channel(route.service)
        kind = (
            ("stream" if route.client_streaming else "unary") + "_" + ("stream" if route.server_streaming else "unary")
        )
        multicallable = getattr(channel, kind)(route.grpc_path, request_serializer=None, response_deserializer=None)
        return multicallable(requests, metadata=options.metadata, timeout=options.timeout)

    def _channel(self, service: str) -> grpc.aio.Channel:
        channel = self._channels.get(service)
        if channel is None:
            channel = grpc.aio.insecure_channel(self._addresses[service], options=self._options)
            self._channels[service] = channel
        return channel

    async def close(self) -> None:
        """Closes every channel, cancelling calls still open."""
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close()


async def responses(call: grpc.aio.Call, route: MethodRoute) -> AsyncIterator[bytes]:
    """Each response message as it arrives: one for unary responses, many for streams.

    Raises grpc.aio.AioRpcError when the call fails.
    """
    if route.server_streaming:
        async for message in call:
            yield message
    else:
        yield await call
