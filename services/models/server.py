"""Builds the models service: its schema, the registry, the forecaster and the gRPC server."""

from __future__ import annotations

from pathlib import Path

from services.models.artifacts import VersionObjects
from services.models.evaluation_client import EvaluationClient
from services.models.model_cache import ModelCache
from services.models.prediction import Forecaster
from services.models.registry import Registry
from services.models.repository import ModelRepository
from services.models.servicer import ModelsServicer
from services.models.training_client import TrainingClient
from tsforge.core.clients import UploadClient
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.models.v1 import models_service_pb2 as pb

DEFINITION = ServiceDefinition(
    name="models",
    descriptor=pb.DESCRIPTOR.services_by_name["ModelsService"],
    schema="models",
    migrations=Path(__file__).parent / "migrations",
)
MODEL_CACHE_BYTES = 512 << 20


class ModelsServer:
    """A running models service."""

    def __init__(
        self, config: Config, db: Database, store: ObjectStore, address: str, model_cache_bytes: int = MODEL_CACHE_BYTES
    ):
        DEFINITION.migrate(db)
        self.training = TrainingClient(
            config.addresses["training"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        self.evaluations = EvaluationClient(
            config.addresses["evaluation"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        self.uploads = UploadClient(config.addresses["upload"], config.jwt_secret)
        self.repository = ModelRepository(db)
        self.objects = VersionObjects(store)
        self.cache = ModelCache(model_cache_bytes)
        self.registry = Registry(self.repository, self.training, self.evaluations, self.objects)
        servicer = ModelsServicer(self.registry, self.objects, Forecaster(self.objects, self.uploads, self.cache))
        self.running = serve(DEFINITION, servicer, address, config)
        self.port = self.running.port

    def stop(self, grace: float = 5.0) -> None:
        self.running.stop(grace)
        self.training.close()
        self.evaluations.close()
        self.uploads.close()
