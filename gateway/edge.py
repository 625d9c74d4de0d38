"""The edge on one machine: Envoy in front of the services, and the console's static file
server behind it, started together and stopped together.

    edge = start_edge(config, config.addresses)
    edge.port        # grpc-web, REST/JSON, gRPC and the web console
    edge.admin_port  # Envoy's admin interface, 127.0.0.1 only
    edge.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.console import RunningConsole, default_console_dir, start_console
from gateway.descriptors import descriptor_set_from_modules, services
from gateway.envoy_config import EdgeLayout, Endpoint, bootstrap
from gateway.envoy_process import EnvoyProcess, EnvoyUnavailable, find_envoy
from tsforge.core.config import Config

log = logging.getLogger(__name__)

__all__ = ["EnvoyUnavailable", "RunningEdge", "local_bootstrap", "start_edge"]


def local_bootstrap(
    config: Config,
    upstreams: Mapping[str, str],
    console_port: int | None,
    listen_port: int,
    admin_port: int,
    *,
    access_log: bool = True,
) -> dict:
    """The Envoy bootstrap `tsforge up` runs: `upstreams` ("upload" -> "host:port") on
    loopback, the descriptor set of the generated modules inlined, CORS for
    TSFORGE_GATEWAY_CORS_ORIGINS, the admin interface on 127.0.0.1 only.

    Raises KeyError when a service of the protos has no upstream.
    """
    descriptor_set = descriptor_set_from_modules()
    found = services(descriptor_set)
    missing = [s.key for s in found if s.key not in upstreams]
    if missing:
        raise KeyError(f"no address for the {', '.join(missing)} service(s)")
    layout = EdgeLayout(
        listen=Endpoint(config.host, listen_port),
        admin=Endpoint("127.0.0.1", admin_port),
        upstreams={name: Endpoint.parse(address) for name, address in upstreams.items()},
        console=Endpoint("127.0.0.1", console_port) if console_port is not None else None,
        cors_exact=tuple(config.gateway_cors_origins),
        max_message_bytes=config.grpc_max_message_bytes,
        access_log=access_log,
        descriptor_bin=descriptor_set.SerializeToString(),
    )
    return bootstrap(layout, found)


@dataclass
class RunningEdge:
    envoy: EnvoyProcess
    console: RunningConsole

    @property
    def port(self) -> int:
        return self.envoy.port

    @property
    def admin_port(self) -> int:
        return self.envoy.admin_port

    @property
    def console_port(self) -> int:
        return self.console.port

    def stop(self) -> None:
        """Stops Envoy first (no request reaches a stopping server), then the static files."""
        try:
            self.envoy.stop()
        finally:
            self.console.stop()


def start_edge(
    config: Config,
    upstreams: Mapping[str, str] | None = None,
    console_dir: Path | None = None,
    *,
    port: int | None = None,
    admin_port: int | None = None,
) -> RunningEdge:
    """Starts the console's static files and Envoy in front of `upstreams` (default: the
    configured addresses) on TSFORGE_GATEWAY_PORT (or `port`; 0 picks a free one), and
    returns once Envoy is ready.

    `console_dir` defaults to TSFORGE_CONSOLE_DIR, else the repository's web/dist.
    Raises EnvoyUnavailable when there is no usable Envoy binary (the message says how
    to get one) or Envoy does not start (with its last log lines).
    """
    binary = find_envoy(config.envoy_binary)
    upstreams = dict(config.addresses if upstreams is None else upstreams)
    console = start_console("127.0.0.1", 0, console_dir or default_console_dir(config.console_dir))
    # Envoy's debug level prints request headers, bearer tokens included: never below info.
    envoy_level = "info" if config.log_level == "DEBUG" else "warning"
    envoy = EnvoyProcess(
        binary,
        lambda listen, admin: local_bootstrap(config, upstreams, console.port, listen, admin),
        config.gateway_port if port is None else port,
        config.gateway_admin_port if admin_port is None else admin_port,
        log_level=envoy_level,
    )
    try:
        envoy.start()
    except BaseException:
        console.stop()
        raise
    return RunningEdge(envoy, console)
