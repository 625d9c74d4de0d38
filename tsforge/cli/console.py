"""`tsforge console`: the web console's static files (and /openapi.json, /docs/) on their own,
for installs where Envoy runs elsewhere (compose, Kubernetes); `tsforge up` runs them itself."""

from __future__ import annotations

import click

from tsforge.cli.client import stdout
from tsforge.cli.serving import serving_config, stop_requested

CONSOLE_PORT = 8081


@click.command()
@click.option("--port", type=int, default=CONSOLE_PORT, show_default=True, help="Port to serve on.")
def console(port: int) -> None:
    """Serve the web console from TSFORGE_CONSOLE_DIR until Ctrl-C or SIGTERM."""
    from gateway.console import default_console_dir, start_console

    config = serving_config()
    stopping = stop_requested()
    try:
        running = start_console(config.host, port, default_console_dir(config.console_dir))
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    try:
        stdout.print(f"console on http://{config.host}:{running.port}")
        stopping.wait()
    finally:
        running.stop()
