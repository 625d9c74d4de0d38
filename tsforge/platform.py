"""The composition root: the platform's parts, what each one calls, and how each starts.

`tsforge up`, the test fixtures (tests/plugin.py) and the benchmarks start services,
workers and the edge through Platform only, so the wiring is written once:

    platform = Platform(config, ["upload", "training", "workers"])
    platform.address("training")   # where a client reaches it
    platform.stop()

Parts start in dependency order on one database and object store. A part started here
on port 0 gets its real address written into the config the later parts (and worker
processes) see; a part not started here is reached at the configured address.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tsforge.core.backends import EmbeddedPostgres, open_store
from tsforge.core.backends import database_url as backends_database_url
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.storage import ObjectStore

log = logging.getLogger(__name__)

SERVICES = ("upload", "training", "evaluation", "models")
WORKERS = "workers"
EDGE = "edge"


@dataclass(frozen=True)
class Part:
    """One part: its name, the parts it calls, and its factory (returns a running thing
    with stop(); servers also have `port`)."""

    name: str
    calls: tuple[str, ...]
    start: Callable[[Platform], Any]
    is_server: bool = True


def _upload(platform: Platform):
    from services.upload.server import UploadServer

    return UploadServer(platform.config, platform.db, platform.store, platform.bind_address("upload"))


def _training(platform: Platform):
    from services.training.server import TrainingServer

    return TrainingServer(
        platform.config, platform.db, platform.store, platform.bind_address("training"), platform.database_url
    )


def _evaluation(platform: Platform):
    from services.evaluation.server import EvaluationServer

    return EvaluationServer(platform.config, platform.db, platform.store, platform.bind_address("evaluation"))


def _models(platform: Platform):
    from services.models.server import ModelsServer

    return ModelsServer(platform.config, platform.db, platform.store, platform.bind_address("models"))


def _workers(platform: Platform):
    from services.training.worker import WorkerPool

    # Workers are processes of their own: they read the same config from its variables.
    return WorkerPool(platform.worker_count, platform.worker_environment(), platform.database_url)


def _edge(platform: Platform):
    from gateway.edge import start_edge

    # Envoy in front of every service: those started here at the ports they bound
    # (already in the config), the others where configured.
    port = 0 if platform.any_port else None
    return start_edge(platform.config, port=port, admin_port=port)


PARTS: dict[str, Part] = {
    part.name: part
    for part in (
        Part("upload", (), _upload),
        Part("training", ("upload",), _training),
        Part("evaluation", ("training",), _evaluation),
        Part("models", ("upload", "training", "evaluation"), _models),
        Part(WORKERS, ("upload", "training"), _workers, is_server=False),
        Part(EDGE, SERVICES, _edge),
    )
}
ALL = (*SERVICES, WORKERS, EDGE)


def with_what_they_call(names: Iterable[str]) -> tuple[str, ...]:
    """`names` and every part they call, directly or not (for a self-contained platform)."""
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for called in PARTS[name].calls:
                add(called)

    for name in names:
        add(name)
    return tuple(name for name in ALL if name in wanted)


def start_order(names: Iterable[str]) -> list[str]:
    """The parts in an order where each starts after the parts it calls that are asked for.

    Raises KeyError for a name that is not a part.
    """
    asked = [PARTS[name].name for name in dict.fromkeys(names)]
    ordered: list[str] = []
    for name in ALL:  # ALL lists every part after the parts it calls
        if name in asked:
            ordered.append(name)
    return ordered


class Platform:
    """The parts asked for, started together on one database and object store, stopped together.

    `database_url`, `db` and `store` may be given (tests share a database between
    platforms); otherwise they come from the config (embedded PostgreSQL, local store).
    `any_port` binds every server to a free port of 127.0.0.1 (tests, benchmarks).
    Raises RuntimeError (a port cannot be bound) after stopping what had started.
    """

    def __init__(
        self,
        config: Config,
        parts: Sequence[str] = ALL,
        *,
        database_url: str | None = None,
        db: Database | None = None,
        store: ObjectStore | None = None,
        any_port: bool = False,
        workers: int | None = None,
    ):
        self.config = config
        self.any_port = any_port
        self.worker_count = config.training_workers if workers is None else workers
        self._embedded: EmbeddedPostgres | None = None
        if database_url is None:
            database_url, self._embedded = backends_database_url(config)
        self.database_url = database_url
        self._own_db = db is None
        self.db = db if db is not None else Database(database_url)
        self.store = store if store is not None else open_store(config)
        self.running: dict[str, Any] = {}
        try:
            for name in start_order(parts):
                if name == WORKERS and not self.worker_count:
                    continue
                part = PARTS[name]
                self.running[name] = part.start(self)
                if part.is_server and name != EDGE:
                    self.config = self.config.with_address(name, f"{self.reach_host}:{self.running[name].port}")
        except BaseException:
            self.stop()
            raise

    @property
    def reach_host(self) -> str:
        """The host a client on this machine uses to reach what this platform serves."""
        host = "127.0.0.1" if self.any_port else self.config.host
        return "127.0.0.1" if host in ("0.0.0.0", "::") else host

    def bind_address(self, name: str) -> str:
        if self.any_port:
            return "127.0.0.1:0"
        return f"{self.config.host}:{self.config.ports[name]}"

    def address(self, name: str) -> str:
        """Where a client on this machine reaches a started service (or the configured one)."""
        return self.config.addresses[name]

    def port(self, name: str) -> int:
        return self.running[name].port

    def server(self, name: str) -> Any:
        return self.running[name]

    def worker_environment(self) -> dict[str, str]:
        """What a worker process needs to read this platform's config: the TSFORGE_*
        settings (addresses of the services started here included) over this process's
        environment."""
        return {**os.environ, **self.config.environment()}

    def stop(self, grace: float = 5.0) -> None:
        """Stops the parts in reverse order (the edge first, so no request reaches a
        stopping service; servers let in-flight calls finish for `grace` seconds), then
        the database connections and the embedded PostgreSQL."""
        for name in reversed(list(self.running)):
            running = self.running.pop(name)
            try:
                if PARTS[name].is_server and name != EDGE:
                    running.stop(grace)
                else:
                    running.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        if self._own_db:
            self.db.dispose()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
