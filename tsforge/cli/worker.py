"""`tsforge worker training`: training worker processes without any server, for
deployments that scale workers apart from the services."""

from __future__ import annotations

import click

from tsforge.cli.client import stdout
from tsforge.cli.serving import serving_config, stop_requested
from tsforge.platform import WORKERS, Platform


@click.group()
def worker() -> None:
    """Run worker processes without servers: `training` claims queued dataset builds and runs from PostgreSQL."""


@worker.command("training")
@click.option(
    "--count", type=click.IntRange(1, 64), default=None, help="Worker processes (default: TSFORGE_TRAINING_WORKERS, 1)."
)
def training_worker(count: int | None) -> None:
    """Build datasets and train runs until SIGTERM or Ctrl-C.

    Workers reach the upload service at TSFORGE_UPLOAD_ADDRESS and share nothing but
    the database (TSFORGE_DATABASE_URL) and the object store with the services.
    """
    config = serving_config(needs_secret=True)
    stopping = stop_requested()
    platform = Platform(config, [WORKERS], workers=count or config.training_workers or 1)
    stdout.print(f"{platform.worker_count} training worker(s) running; Ctrl-C stops them")
    try:
        stopping.wait()
    finally:
        platform.stop()
