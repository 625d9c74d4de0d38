"""`tsforge up`: every service that exists, on one machine, on the configured ports."""

from __future__ import annotations

import logging
import os
import signal
import threading
from importlib import resources
from pathlib import Path

import click

from tsforge.cli.client import stdout
from tsforge.cli.files import ROLES, print_profile, sha256_of, upload_file
from tsforge.core.auth import issue_token
from tsforge.core.config import Config, ConfigError, load_config
from tsforge.core.db import Database
from tsforge.core.logs import configure_logging
from tsforge.core.platform import database_url, open_store
from tsforge.core.server import client_channel
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

DEMO_TENANT = "demo"
SERVICES = ("upload", "training", "evaluation", "models")  # the services that exist so far
GATEWAY = "gateway"


class Platform:
    """The database, the object store and the servers, started together and stopped together."""

    def __init__(
        self,
        config: Config,
        services: tuple[str, ...] = SERVICES,
        workers: int | None = None,
        start_gateway: bool = True,
    ):
        # The CLI's client commands need no server code: imported here.
        from services.evaluation.server import EvaluationServer
        from services.models.server import ModelsServer
        from services.training.server import TrainingServer
        from services.training.worker import WorkerPool
        from services.upload.server import UploadServer

        self.config = config
        url, self._embedded = database_url(config)
        self.db = Database(url)
        self.store = open_store(config)
        builders = {
            "upload": lambda address: UploadServer(config, self.db, self.store, address),
            "training": lambda address: TrainingServer(config, self.db, self.store, address, url),
            "evaluation": lambda address: EvaluationServer(config, self.db, self.store, address),
            "models": lambda address: ModelsServer(config, self.db, self.store, address),
        }
        self.servers = {name: builders[name](f"{config.host}:{config.ports[name]}") for name in services}
        workers = config.training_workers if workers is None else workers
        # Workers are separate processes that reach the services at their addresses.
        env = dict(os.environ)
        for name, server in self.servers.items():
            env.setdefault(f"TSFORGE_{name.upper()}_ADDRESS", f"127.0.0.1:{server.port}")
        self.workers = WorkerPool(workers, env, url) if workers else None
        self.gateway = None
        if start_gateway:  # after the services, so its first requests find them
            from gateway.edge import start_edge

            # The services running here, at the ports they bound; the others where configured.
            host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
            upstreams = dict(config.addresses)
            upstreams.update({name: f"{host}:{server.port}" for name, server in self.servers.items()})
            try:
                self.gateway = start_edge(config, upstreams)
            except RuntimeError:  # EnvoyUnavailable too: its message says how to get Envoy
                self.stop()
                raise

    def stop(self) -> None:
        if self.gateway is not None:  # first, so no request reaches a stopping service
            self.gateway.stop()
        if self.workers:
            self.workers.stop()
        for server in self.servers.values():
            server.stop()
        self.db.dispose()
        if self._embedded:
            self._embedded.stop()


def run_demo(config: Config, upload_address: str) -> None:
    """Uploads the bundled sample CSV as tenant 'demo' (once) and prints its profile."""
    token = issue_token(config.jwt_secret, DEMO_TENANT)
    metadata = (("authorization", f"Bearer {token}"),)
    stub = pb_grpc.UploadServiceStub(client_channel(upload_address))
    with resources.as_file(resources.files("tsforge.samples") / "electric_load.csv") as sample:
        sample = Path(sample)
        sha256 = sha256_of(sample)
        existing = [
            f
            for f in stub.ListFiles(pb.ListFilesRequest(page_size=1000), metadata=metadata).files
            if f.sha256 == sha256
        ]
        if existing:
            file = existing[0]
            stdout.print(f"\nthe sample is already uploaded as {file.name}:")
        else:
            stdout.print(f"\nuploading the sample {sample.name} as tenant '{DEMO_TENANT}':")
            file = upload_file(stub, metadata, sample, ROLES["output"], display_name="electric load")
    print_profile(stdout, file)
    stdout.print(
        f"\ntry it yourself:\n  export TSFORGE_TOKEN={token}\n  tsforge files\n  tsforge upload YOUR.csv --role input"
    )


@click.command()
@click.option("--demo/--no-demo", default=False, help="Upload the bundled sample CSV and print its profile.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(SERVICES + (GATEWAY,)),
    help="Start only this service or the gateway (repeatable), e.g. one per container.",
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
    try:
        config = load_config()
        config.jwt_secret  # noqa: B018 (servers and workers refuse to start without one)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(config.log_level, config.log_json, config.secret_values())
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stdout.print(f"starting tsforge (data in {config.data_dir})…")
    try:
        services = tuple(name for name in only if name != GATEWAY) if only else SERVICES
        platform = Platform(config, services, workers, start_gateway=not only or GATEWAY in only)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    try:
        mode = "PostgreSQL at TSFORGE_DATABASE_URL" if config.database_url else "embedded PostgreSQL"
        store = f"S3 at {config.s3.endpoint}" if config.s3 else f"objects in {config.object_dir}"
        stdout.print(f"using {mode}, {store}")
        for name, server in platform.servers.items():
            stdout.print(f"  {name:<10} grpc://{config.host}:{server.port}")
        if platform.gateway is not None:
            stdout.print(
                f"  {GATEWAY:<10} http://{config.host}:{platform.gateway.port} "
                "(Envoy: grpc-web, REST/JSON, the web console; API docs at /docs/)"
            )
        if demo and "upload" in platform.servers:
            host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
            run_demo(config, f"{host}:{platform.servers['upload'].port}")
        stdout.print("\nserving; press Ctrl-C to stop")
        stopping.wait()
    finally:
        stdout.print("stopping…")
        platform.stop()
