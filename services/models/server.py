"""Builds the models service: its schema, the registry, the forecaster and the gRPC server."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from services.models.artifacts import VersionObjects
from services.models.model_cache import ModelCache
from services.models.prediction import Forecaster
from services.models.registry import Registry
from services.models.repository import ModelRepository
from services.models.servicer import ModelsServicer
from tsforge.core import usage
from tsforge.core.clients import EvaluationClient, TrainingClient, UploadClient
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.models.v1 import models_service_pb2 as pb

log = logging.getLogger(__name__)

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
        usage.migrate_ledger(db)  # the registry records its bytes there (and may start before upload)
        self.training = TrainingClient(
            config.addresses["training"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        self.evaluations = EvaluationClient(
            config.addresses["evaluation"], config.jwt_secret, max_message_bytes=config.grpc_max_message_bytes
        )
        self.uploads = UploadClient(config.addresses["upload"], config.jwt_secret)
        self.repository = ModelRepository(db, config.tenant_quota_bytes)
        # Registrations then add to the ledger (no sum over the versions on the hot path).
        log.info("version bytes of %d tenants written into the quota ledger", self.repository.resync_usage())
        self.objects = VersionObjects(store, self.repository.add_stored_bytes)
        self.cache = ModelCache(model_cache_bytes)
        self.registry = Registry(self.repository, self.training, self.evaluations, self.objects)
        servicer = ModelsServicer(self.registry, self.objects, Forecaster(self.objects, self.uploads, self.cache))
        self.running = serve(DEFINITION, servicer, address, config)
        self.port = self.running.port
        # The first Predict of a Keras model would import TensorFlow (~10-40 s on a busy
        # machine): done in the background now, so it is as fast as any cold Predict.
        threading.Thread(target=_import_tensorflow, name="tensorflow-warm-up", daemon=True).start()

    def stop(self, grace: float = 5.0) -> None:
        self.running.stop(grace)
        self.training.close()
        self.evaluations.close()
        self.uploads.close()


def _import_tensorflow() -> None:
    try:
        from tsforge.forecasting.estimators import keras_models  # noqa: F401 (imports TensorFlow)
    except Exception:  # a broken TensorFlow shows on the first Keras Predict, where it matters
        log.warning("warming up TensorFlow failed", exc_info=True)
