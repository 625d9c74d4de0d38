"""Builds the training service: its schema, domain objects, event hub, gRPC server,
and the janitor that fails jobs whose worker was lost."""

from __future__ import annotations

from pathlib import Path

from services.training import queue
from services.training.auto_preset import AutoPreset
from services.training.events import EventHub
from services.training.jobs import Jobs
from services.training.results import Results
from services.training.servicer import TrainingServicer
from services.training.sessions import Sessions
from tsforge.core import usage
from tsforge.core.clients import UploadClient
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.periodic import Periodic
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.forecasting.estimators.specs import resolve_model_specs, to_proto
from tsforge.training.v1 import training_service_pb2 as pb

DEFINITION = ServiceDefinition(
    name="training",
    descriptor=pb.DESCRIPTOR.services_by_name["TrainingService"],
    schema="training",
    migrations=Path(__file__).parent / "migrations",
)
JANITOR_SECONDS = 2.0


def resolve_models(specs: list, input_steps: int):
    resolved, problems = resolve_model_specs(specs, input_steps)
    return [to_proto(model) for model in resolved], problems


class TrainingServer:
    """A running training service (the API; workers run apart, see worker.py)."""

    def __init__(self, config: Config, db: Database, store: ObjectStore, address: str, database_url: str):
        DEFINITION.migrate(db)
        usage.migrate_ledger(db)  # training records its bytes there (and may start before upload)
        self.hub = EventHub(database_url)
        self.uploads = UploadClient(config.addresses["upload"], config.jwt_secret)
        self._db, self._store = db, store
        self._lost_after = config.worker_lost_seconds
        sessions = Sessions(db, self.uploads)
        jobs = Jobs(
            db,
            self.hub,
            config.tenant_max_active_runs,
            resolve_models,
            config.tenant_max_active_builds,
            config.tenant_quota_bytes,
        )
        servicer = TrainingServicer(
            sessions,
            jobs,
            Results(db, store, self.uploads),
            self._delete_objects,
            AutoPreset(sessions, jobs, self.uploads),
        )
        self.running = serve(DEFINITION, servicer, address, config)
        self.port = self.running.port
        self._janitor = Periodic(
            "training-janitor", JANITOR_SECONDS, lambda: queue.fail_lost_jobs(self._db, self._lost_after, self._store)
        )

    def _delete_objects(self, prefixes: list[str]) -> None:
        for prefix in prefixes:
            self._store.delete_prefix(prefix)

    def stop(self, grace: float = 5.0) -> None:
        self._janitor.stop()
        self.running.stop(grace)
        self.hub.stop()
        self.uploads.close()
