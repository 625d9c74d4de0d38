"""`tsforge up`: the whole platform (or the parts named) on one machine, on the configured ports."""

from __future__ import annotations

import logging
import shutil
import sys
from importlib import resources
from pathlib import Path

import click

from tsforge.cli.client import stdout
from tsforge.cli.files import print_profile
from tsforge.cli.serving import serving_config, stop_requested
from tsforge.client import Client as ApiClient
from tsforge.client.uploads import sha256_of
from tsforge.core.auth import issue_token
from tsforge.core.config import SERVICE_PORTS, Config, ConfigError
from tsforge.platform import ALL, EDGE, SERVICES, WORKERS, Platform

log = logging.getLogger(__name__)

DEMO_TENANT = "demo"
GATEWAY = "gateway"  # what --only calls the edge


def run_demo(config: Config, upload_address: str) -> None:
    """Uploads the bundled sample CSV as tenant 'demo' (once) and prints its profile."""
    with (
        ApiClient(demo_token(config), addresses={"upload": upload_address}) as api,
        resources.as_file(resources.files("tsforge.samples") / "electric_load.csv") as sample,
    ):
        with Path(sample).open("rb") as handle:
            sha256, _size = sha256_of(handle)
        file = next((f for f in api.files() if f.sha256 == sha256), None)
        if file is not None:
            stdout.print(f"\nthe sample is already uploaded as {file.name}:")
        else:
            stdout.print(f"\nuploading the sample {Path(sample).name} as tenant '{DEMO_TENANT}':")
            file = api.upload(sample, "output", display_name="electric load")
    print_profile(stdout, file)


def demo_token(config: Config) -> str:
    return issue_token(config.jwt_secret, DEMO_TENANT)


def tsforge_command() -> str:
    """Where this `tsforge` is: the script beside this Python (the venv's bin/tsforge),
    else the one on PATH, else how this process was started."""
    beside = Path(sys.executable).parent / "tsforge"
    if beside.exists():
        return str(beside)
    return shutil.which("tsforge") or f"{sys.executable} -m tsforge.cli"


def second_shell(config: Config, token: str, command: str) -> list[str]:
    """The exports another shell needs to use this platform with `tsforge`: PATH (when
    `command` is a script), the demo token, the data directory (where the token secret
    is) when it is not the default, and every service address that is not the default."""
    exports = []
    if command.endswith("/tsforge"):
        exports.append(f"export PATH={Path(command).parent}:$PATH")
    exports.append(f"export TSFORGE_TOKEN={token}")
    if "TSFORGE_DATA_DIR" in config.settings:
        exports.append(f"export TSFORGE_DATA_DIR={config.data_dir}")
    for service, address in config.addresses.items():
        if address != f"127.0.0.1:{SERVICE_PORTS[service]}":
            exports.append(f"export TSFORGE_{service.upper()}_ADDRESS={address}")
    return exports


def print_next_steps(config: Config, console_url: str | None) -> None:
    """Where to go from here: the console signed in as the demo tenant (the token in the
    URL fragment never reaches a server log), and what a second shell needs."""
    token = demo_token(config)
    if console_url:
        stdout.print(f"\nweb console, signed in as '{DEMO_TENANT}':\n  {console_url}/#token={token}")
    command = tsforge_command()
    stdout.print(
        f"\nin another shell (tsforge is {command}):\n  "
        + "\n  ".join(second_shell(config, token, command))
        + "\n  tsforge files\n  tsforge upload YOUR.csv --role input"
    )


@click.command()
@click.option("--demo/--no-demo", default=False, help="Upload the bundled sample CSV and print its profile.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice((*SERVICES, WORKERS, GATEWAY)),
    help="Start only this part (repeatable), e.g. one service per container; workers and the gateway "
    "start only when named too.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Training worker processes (default: TSFORGE_TRAINING_WORKERS, 1).",
)
def up(demo: bool, only: tuple[str, ...], workers: int | None) -> None:
    """Start every tsforge service on this machine and serve until Ctrl-C or SIGTERM.

    With nothing configured, data (an embedded PostgreSQL and the object store) lives
    under TSFORGE_DATA_DIR. Set TSFORGE_DATABASE_URL and TSFORGE_S3_* to use your own.
    """
    config = serving_config(needs_secret=True)
    stopping = stop_requested()
    stdout.print(f"starting tsforge (data in {config.data_dir})…")
    parts = [EDGE if name == GATEWAY else name for name in only] if only else list(ALL)
    try:
        platform = Platform(config, parts, workers=workers)
    except (RuntimeError, ConfigError) as error:
        raise click.ClickException(str(error)) from None
    try:
        mode = "PostgreSQL at TSFORGE_DATABASE_URL" if config.database_url else "embedded PostgreSQL"
        store = f"S3 at {config.s3.endpoint}" if config.s3 else f"objects in {config.object_dir}"
        stdout.print(f"using {mode}, {store}")
        for name in SERVICES:
            if name in platform.running:
                stdout.print(f"  {name:<10} grpc://{config.host}:{platform.port(name)}")
        if WORKERS in platform.running:
            stdout.print(f"  {WORKERS:<10} {platform.worker_count} training worker process(es)")
        if EDGE in platform.running:
            stdout.print(
                f"  {GATEWAY:<10} http://{config.host}:{platform.port(EDGE)} "
                "(Envoy: grpc-web, REST/JSON, the web console; API docs at /docs/)"
            )
        if demo and "upload" in platform.running:
            run_demo(config, platform.address("upload"))
        if config.embedded:
            edge = f"http://{platform.reach_host}:{platform.port(EDGE)}" if EDGE in platform.running else None
            print_next_steps(config, edge)
        stdout.print("\nserving; press Ctrl-C to stop")
        stopping.wait()
    finally:
        stdout.print("stopping…")
        platform.stop()
