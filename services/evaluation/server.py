"""Builds the evaluation service: its schema, its domain objects and its gRPC server."""

from __future__ import annotations

from pathlib import Path

from services.evaluation.evaluations import Evaluations
from services.evaluation.rendering import Plots
from services.evaluation.servicer import EvaluationServicer
from tsforge.core.clients import TrainingClient
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb

DEFINITION = ServiceDefinition(
    name="evaluation",
    descriptor=pb.DESCRIPTOR.services_by_name["EvaluationService"],
    schema="evaluation",
    migrations=Path(__file__).parent / "migrations",
)


class EvaluationServer:
    """A running evaluation service; it reads runs through the training service."""

    def __init__(self, config: Config, db: Database, store: ObjectStore, address: str):
        DEFINITION.migrate(db)
        # Predictions stream in chunks near 1 MiB; the limit only bounds one message.
        self.training = TrainingClient(
            config.addresses["training"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        evaluations = Evaluations(db, self.training)
        servicer = EvaluationServicer(evaluations, Plots(evaluations, self.training, store))
        self.running = serve(DEFINITION, servicer, address, config)
        self.port = self.running.port

    def stop(self, grace: float = 5.0) -> None:
        self.running.stop(grace)
        self.training.close()
