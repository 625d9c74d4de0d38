"""`tsforge gateway`: grpc-web and REST/JSON for browsers, in front of every service."""

from __future__ import annotations

import dataclasses
import signal
import threading

import click

from tsforge.cli.client import stdout
from tsforge.core.config import ConfigError, load_config
from tsforge.core.logs import configure_logging


@click.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default TSFORGE_GATEWAY_PORT, 8080).")
def gateway(port: int | None) -> None:
    """Serve grpc-web and REST/JSON in front of the services until Ctrl-C or SIGTERM.

    Each service is reached at TSFORGE_<SERVICE>_ADDRESS; browsers from the origins in
    TSFORGE_GATEWAY_CORS_ORIGINS (comma-separated) may call it.
    """
    from gateway.server import GatewaySettings, start_gateway

    try:
        config = load_config()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(config.log_level, config.log_json, config.secret_values())
    settings = GatewaySettings.from_config(config)
    if port is not None:
        settings = dataclasses.replace(settings, port=port)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        running = start_gateway(settings)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    try:
        stdout.print(f"gateway on http://{config.host}:{running.port} (grpc-web and REST/JSON)")
        for name, address in sorted(settings.upstreams.items()):
            stdout.print(f"  {name:<10} -> grpc://{address}")
        stopping.wait()
    finally:
        running.stop()
