"""What every long-running command (up, worker, gateway, console) does before it
serves: read the configuration once, configure logging, and learn when to stop."""

from __future__ import annotations

import signal
import threading

import click

from tsforge.core.config import Config, ConfigError, load_config
from tsforge.core.logs import configure_logging


def serving_config(*, needs_secret: bool = False) -> Config:
    """The configuration, with logging configured from it. Raises click.ClickException
    naming every bad setting (and a missing JWT secret when `needs_secret`: servers and
    workers refuse to start without one)."""
    try:
        config = load_config()
        if needs_secret:
            config.jwt_secret  # noqa: B018 (a property that raises ConfigError)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(config.log_level, config.log_json, config.secret_values())
    return config


def stop_requested() -> threading.Event:
    """An event set by the first Ctrl-C (SIGINT) or SIGTERM."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    return stopping
