"""Starting and stopping the gateway: its own event loop in a thread, so `tsforge up` (which
runs the gRPC services on threads) and the tests can start it beside the services."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from gateway.app import create_app
from gateway.cors import CorsPolicy
from gateway.routes import RouteTable, load_routes, service_modules
from gateway.upstream import Upstreams

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway listens, where each service is, and which origins may call it."""

    host: str
    port: int  # 0 picks a free port
    upstreams: Mapping[str, str]  # service key ("upload", ...) -> "host:port"
    cors_origins: tuple[str, ...] = ()
    max_message_bytes: int = 8 << 20
    shutdown_grace_seconds: float = 5.0  # how long stop() lets open requests and streams finish

    @classmethod
    def from_config(cls, config) -> GatewaySettings:
        """From tsforge's Config: TSFORGE_HOST, TSFORGE_GATEWAY_PORT, the service addresses."""
        return cls(
            host=config.host,
            port=config.gateway_port,
            upstreams=dict(config.addresses),
            cors_origins=config.gateway_cors_origins,
            max_message_bytes=config.grpc_max_message_bytes,
        )


class RunningGateway:
    """A gateway serving on its own thread and event loop until stop()."""

    def __init__(self, settings: GatewaySettings, routes: RouteTable | None = None):
        self.settings = settings
        self._routes = routes or load_routes(service_modules(settings.upstreams))
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._serve, name="gateway", daemon=True)

    def start(self) -> RunningGateway:
        """Starts serving; returns once the port is bound.

        Raises RuntimeError (with the cause) when it cannot listen.
        """
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            raise RuntimeError("the gateway did not start in time")
        if self._failure is not None:
            self._thread.join()
            raise RuntimeError(
                f"the gateway cannot listen on {self.settings.host}:{self.settings.port}: {self._failure}"
            ) from self._failure
        log.info("gateway serving grpc-web and REST on port %d", self.port)
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        except BaseException as error:  # reported to start()'s caller
            self._failure = error
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        settings = self.settings
        app = create_app(
            self._routes,
            Upstreams(settings.upstreams, settings.max_message_bytes),
            CorsPolicy(tuple(settings.cors_origins)),
            settings.max_message_bytes,
        )
        # handler_cancellation: a client that disconnects cancels its handler, and with
        # it the upstream call, even while the handler waits for the next stream message.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=settings.shutdown_grace_seconds
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.host, settings.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            raise
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Stops accepting, lets open requests finish for the shutdown grace, closes the channels."""
        if self._runner is None or not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            future.result(timeout=self.settings.shutdown_grace_seconds + 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def start_gateway(settings: GatewaySettings, routes: RouteTable | None = None) -> RunningGateway:
    """A started gateway (routes read from the services' generated modules unless given)."""
    return RunningGateway(settings, routes).start()
