"""Builds the evaluation service: its schema, domain objects, event hub, gRPC server,
its evaluation workers, and the janitor that queues again the evaluations whose worker
was lost."""

from __future__ import annotations

from pathlib import Path

from services.evaluation import execution
from services.evaluation.evaluations import Evaluations
from services.evaluation.rendering import Plots
from services.evaluation.repository import EVENT_CHANNEL
from services.evaluation.servicer import EvaluationServicer
from services.evaluation.worker import EvaluationWorkers
from tsforge.core.clients import TrainingClient
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.events import EventHub
from tsforge.core.periodic import Periodic
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb

DEFINITION = ServiceDefinition(
    name="evaluation",
    descriptor=pb.DESCRIPTOR.services_by_name["EvaluationService"],
    schema="evaluation",
    migrations=Path(__file__).parent / "migrations",
)
JANITOR_SECONDS = 2.0


class EvaluationServer:
    """A running evaluation service; it reads runs through the training service, and its
    workers (TSFORGE_EVALUATION_WORKERS threads) compute the queued evaluations."""

    def __init__(self, config: Config, db: Database, store: ObjectStore, address: str, database_url: str):
        DEFINITION.migrate(db)
        # Predictions stream in chunks near 1 MiB; the limit only bounds one message.
        self.training = TrainingClient(
            config.addresses["training"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        self.hub = EventHub(database_url, EVENT_CHANNEL)
        evaluations = Evaluations(db, self.training, self.hub)
        servicer = EvaluationServicer(evaluations, Plots(evaluations, self.training, store))
        self.running = serve(DEFINITION, servicer, address, config)
        self.port = self.running.port
        lost_after = config.worker_lost_seconds
        self.workers = EvaluationWorkers(db, database_url, self.training, config.evaluation_workers, lost_after)
        self._janitor = Periodic("evaluation-janitor", JANITOR_SECONDS, lambda: execution.requeue_lost(db, lost_after))

    def stop(self, grace: float = 5.0) -> None:
        self._janitor.stop()
        self.workers.stop()
        self.running.stop(grace)
        self.hub.stop()
        self.training.close()
