"""The `tsforge` command."""

from __future__ import annotations

import click

from tsforge.cli.console import console
from tsforge.cli.evaluation import evaluate
from tsforge.cli.files import file, files, upload, uploads
from tsforge.cli.gateway import gateway
from tsforge.cli.keys import keys
from tsforge.cli.models import models
from tsforge.cli.predictions import predictions
from tsforge.cli.training import cancel, runs, session, sessions, train, watch
from tsforge.cli.up import up
from tsforge.cli.worker import worker
from tsforge.core.auth import issue_token
from tsforge.core.config import ConfigError, load_config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """tsforge: train, evaluate and version time-series forecasting models from CSV files.

    Client commands reach the services at TSFORGE_<SERVICE>_ADDRESS (default
    127.0.0.1 on the ports `tsforge up` uses) with the token in TSFORGE_TOKEN.
    """


@cli.command()
@click.option("--tenant", required=True, help="Tenant the token acts for.")
@click.option("--days", default=30, show_default=True, help="Days until the token expires.")
def token(tenant: str, days: int) -> None:
    """Print a bearer token for local use, signed with TSFORGE_JWT_SECRET (or the embedded install's own)."""
    try:
        config = load_config()
        click.echo(issue_token(config.jwt_secret, tenant, ttl_seconds=days * 86400))
    except (ConfigError, ValueError) as error:
        raise click.ClickException(str(error)) from None


@cli.command()
def migrate() -> None:
    """Apply every service's database migrations and exit."""
    from importlib import import_module

    from tsforge.core import api_keys, usage
    from tsforge.core.backends import database_url
    from tsforge.core.db import Database
    from tsforge.core.db import migrate as migrate_schema
    from tsforge.platform import SERVICES

    config = load_config()
    url, embedded = database_url(config)
    db = Database(url)
    try:
        click.echo(f"accounting schema at version {usage.migrate_ledger(db)}")
        click.echo(f"auth schema at version {migrate_schema(db.engine, api_keys.SCHEMA, api_keys.MIGRATIONS)}")
        for service in SERVICES:
            version = import_module(f"services.{service}.server").DEFINITION.migrate(db)
            click.echo(f"{service} schema at version {version}")
    finally:
        db.dispose()
        if embedded:
            embedded.stop()


cli.add_command(up)
cli.add_command(models)
cli.add_command(upload)
cli.add_command(uploads)
cli.add_command(files)
cli.add_command(file)
cli.add_command(gateway)
cli.add_command(console)
cli.add_command(worker)
for command in (session, sessions, train, watch, runs, cancel):
    cli.add_command(command)
cli.add_command(evaluate)
cli.add_command(predictions)
cli.add_command(keys)


def main() -> None:
    cli()
