"""The one bootstrap of every tsforge gRPC server: grpc.aio, health, reflection, limits.

A server runs on an event loop of its own thread, so the rest of a process (tests,
`tsforge up`, the CLI) stays plain blocking code: `create_server(...)` returns once it
listens, `.port` says where, `.stop()` drains it. Blocking servicer code runs on the
loop's bounded thread pool (`threads`); streams that wait (watches, health, reflection,
a slow downloader) hold no thread, so open streams cannot starve the other calls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tsforge.core.auth import ApiKeyVerifier, Authenticator, UploadServiceKeyCheck
from tsforge.core.config import Config
from tsforge.core.db import Database, migrate
from tsforge.core.rpc import ServiceHandler, StreamLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    """What names a service once: its proto service, database schema and migrations."""

    name: str  # "upload", as in TSFORGE_UPLOAD_PORT and the service list
    descriptor: ServiceDescriptor
    schema: str
    migrations: Path

    @property
    def full_name(self) -> str:
        return self.descriptor.full_name

    def migrate(self, db: Database) -> str:
        """Brings the service's schema to its newest version; returns that version."""
        return migrate(db.engine, self.schema, self.migrations)


@dataclass(frozen=True)
class Registration:
    """One service to serve: its proto service and the servicer implementing it."""

    descriptor: ServiceDescriptor
    servicer: object

    @property
    def service_name(self) -> str:
        return self.descriptor.full_name


class RunningServer:
    """A started grpc.aio server on its own event-loop thread."""

    def __init__(
        self,
        registrations: Sequence[Registration],
        address: str,
        *,
        jwt_secret: str,
        max_message_bytes: int,
        threads: int,
        max_streams_per_tenant: int = 100,
        api_keys: ApiKeyVerifier | None = None,
    ):
        self.service_names = tuple(r.service_name for r in registrations)
        self._loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc")
        self._loop.set_default_executor(self._executor)
        self._thread = threading.Thread(target=self._loop.run_forever, name="grpc-loop", daemon=True)
        self._thread.start()
        streams = StreamLimits(max_streams_per_tenant)
        self._authenticator = Authenticator(jwt_secret, api_keys)
        try:
            self.port = asyncio.run_coroutine_threadsafe(
                self._start(registrations, address, self._authenticator, max_message_bytes, streams), self._loop
            ).result()
        except BaseException:
            self._close_loop()
            raise
        log.info("serving %s on port %d", ", ".join(self.service_names), self.port)

    async def _start(
        self, registrations, address: str, authenticator: Authenticator, max_message_bytes: int, streams
    ) -> int:
        self.server = grpc.aio.server(
            options=[
                # Chunks are ~1-6 MiB; leave room for metadata but refuse anything absurd.
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.so_reuseport", 0),
            ]
        )
        for registration in registrations:
            self.server.add_generic_rpc_handlers(
                (ServiceHandler(registration.descriptor, registration.servicer, authenticator, streams),)
            )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            self.service_names + (health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        port = self.server.add_insecure_port(address)
        if port == 0:
            raise RuntimeError(f"cannot listen on {address}")
        await self.server.start()
        for name in ("",) + self.service_names:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return port

    def stop(self, grace: float = 5.0) -> None:
        """Reports NOT_SERVING, lets in-flight RPCs finish for `grace` seconds, then stops."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._stop(grace), self._loop).result()
        self._close_loop()

    async def _stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._authenticator.close()


def create_server(
    registrations: Sequence[Registration],
    address: str,
    *,
    jwt_secret: str,
    max_message_bytes: int,
    threads: int,
    max_streams_per_tenant: int = 100,
    api_keys: ApiKeyVerifier | None = None,
) -> RunningServer:
    """A started server listening on `address` ("host:0" picks a free port), taking
    JWTs signed with `jwt_secret` and API keys checked by `api_keys` (None: refused).

    Raises RuntimeError when the address cannot be bound.
    """
    return RunningServer(
        registrations,
        address,
        jwt_secret=jwt_secret,
        max_message_bytes=max_message_bytes,
        threads=threads,
        max_streams_per_tenant=max_streams_per_tenant,
        api_keys=api_keys,
    )


def serve(
    definition: ServiceDefinition,
    servicer: object,
    address: str,
    config: Config,
    api_keys: ApiKeyVerifier | None = None,
) -> RunningServer:
    """The service's server with the configured limits, listening on `address`.

    API keys are checked by `api_keys` (the upload service passes its own), by default
    through the upload service at its configured address, each check kept for half of
    TSFORGE_API_KEY_CACHE_SECONDS (see tsforge.core.auth).
    """
    if api_keys is None:
        check = UploadServiceKeyCheck(config.addresses["upload"])
        api_keys = ApiKeyVerifier(check, config.api_key_cache_seconds / 2, close=check.close)
    return create_server(
        [Registration(definition.descriptor, servicer)],
        address,
        jwt_secret=config.jwt_secret,
        max_message_bytes=config.grpc_max_message_bytes,
        threads=config.server_threads,
        max_streams_per_tenant=config.tenant_max_streams,
        api_keys=api_keys,
    )
