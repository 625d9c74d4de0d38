"""Builds and runs a tsforge gRPC server: interceptor, health, reflection, limits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tsforge.core.interceptor import ServerInterceptor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """One service to serve: its full proto name and how to add its servicer."""

    service_name: str
    add_to_server: Callable[[grpc.Server], None]


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: tuple[str, ...]

    def stop(self, grace: float = 5.0) -> None:
        """Reports NOT_SERVING, lets in-flight RPCs finish for `grace` seconds, then stops."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def create_server(
    registrations: Sequence[Registration],
    address: str,
    *,
    jwt_secret: str,
    max_message_bytes: int,
    threads: int,
) -> RunningServer:
    """A started server listening on `address` ("host:0" picks a free port).

    Raises RuntimeError when the address cannot be bound.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc"),
        interceptors=[ServerInterceptor(jwt_secret)],
        options=[
            # Chunks are ~1 MiB; leave room for metadata but refuse anything absurd.
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    for registration in registrations:
        registration.add_to_server(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = tuple(r.service_name for r in registrations)
    reflection.enable_server_reflection(names + (health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"cannot listen on {address}")
    server.start()
    for name in ("",) + names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving %s on port %d", ", ".join(names), port)
    return RunningServer(server=server, port=port, health=health_servicer, service_names=names)


def client_channel(address: str, max_message_bytes: int = 8 << 20) -> grpc.Channel:
    """An insecure channel with tsforge's message limits, for clients and tests."""
    return grpc.insecure_channel(
        address,
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ],
    )
