"""Builds the upload service: its schema, its domain objects and its gRPC server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.upload.files import Files
from services.upload.servicer import UploadServicer
from services.upload.uploads import Uploads
from tsforge.core import usage
from tsforge.core.api_keys import ApiKeys
from tsforge.core.auth import ApiKeyVerifier
from tsforge.core.config import Config
from tsforge.core.db import Database
from tsforge.core.periodic import Periodic
from tsforge.core.server import ServiceDefinition, serve
from tsforge.core.storage import ObjectStore
from tsforge.upload.v1 import upload_service_pb2 as pb

DEFINITION = ServiceDefinition(
    name="upload",
    descriptor=pb.DESCRIPTOR.services_by_name["UploadService"],
    schema="upload",
    migrations=Path(__file__).parent / "migrations",
)


class UploadServer:
    """A running upload service: the gRPC server (hosting the API keys too) and the
    reaper of expired uploads."""

    def __init__(self, config: Config, db: Database, store: ObjectStore, address: str):
        DEFINITION.migrate(db)
        usage.migrate_ledger(db)
        self.uploads = Uploads(
            db,
            store,
            quota_bytes=config.tenant_quota_bytes,
            expiry=timedelta(seconds=config.upload_expiry_seconds),
            max_unfinished=config.tenant_max_unfinished_uploads,
        )
        # The API keys live here: this process checks them against the database (the
        # other services ask its GetCaller), and forgets a key it revokes at once.
        api_keys = ApiKeyVerifier(lambda text: self.api_keys.check(text), config.api_key_cache_seconds / 2)
        self.api_keys = ApiKeys(db, config.tenant_max_api_keys, on_revoke=api_keys.forget)
        self.api_keys.migrate()
        servicer = UploadServicer(self.uploads, Files(db, store), self.api_keys)
        self.running = serve(DEFINITION, servicer, address, config, api_keys)
        self.port = self.running.port
        self._reaper = Periodic(
            "upload-reaper", min(60.0, self.uploads.expiry.total_seconds() / 4), self.uploads.reap_expired
        )

    def stop(self, grace: float = 5.0) -> None:
        self._reaper.stop()
        self.running.stop(grace)
