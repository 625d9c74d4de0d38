"""PostgreSQL access: the engine, one transaction helper, and versioned migrations.

Each service owns one PostgreSQL schema and keeps its migrations (Alembic revision
files) in its own folder; `migrate` applies them at start-up under an advisory lock,
so replicas starting together do not race, and refuses a database whose schema
version this code does not know (a newer tsforge migrated it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")


class SchemaVersionError(RuntimeError):
    """The database holds a schema version this code does not know."""


def normalize_url(url: str) -> str:
    """SQLAlchemy URL with the psycopg 3 driver, whatever form of postgresql URL was given."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """An engine and a session factory for one service's schema."""

    def __init__(self, url: str, pool_size: int = 10):
        self.url = url
        self.engine = sa.create_engine(
            normalize_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def reconnecting(work: Callable[[], T], patience_seconds: float = 60.0) -> T:
    """work() (one whole transaction), run again while PostgreSQL cannot be reached, for
    up to `patience_seconds`: a worker rides out a database restart instead of failing
    the job it is doing. Other errors, and the last outage error, propagate."""
    deadline = time.monotonic() + patience_seconds
    delay = 0.2
    while True:
        try:
            return work()
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unreachable; retrying in %.1f s", delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def newest_first(query, table, limit: int, after: tuple | None):
    """`query` limited to one page of rows newest first by (create_time, id), starting
    after the keyset position `after` (from a page token) when given."""
    if after is not None:
        query = query.where(sa.tuple_(table.create_time, table.id) < sa.tuple_(*after))
    return query.order_by(table.create_time.desc(), table.id.desc()).limit(limit)


def migrate(engine: sa.Engine, schema: str, migrations_dir: Path) -> str:
    """Brings `schema` up to the newest revision in `migrations_dir`/versions.

    Returns the revision now applied. Raises SchemaVersionError when the database is
    at a revision these files do not contain.
    """
    script = ScriptDirectory(str(migrations_dir))
    known = {revision.revision for revision in script.walk_revisions()}
    head = script.get_current_head()
    if head is None:
        raise SchemaVersionError(f"{migrations_dir} holds no migration")
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"migrate:{schema}"})
        current = MigrationContext.configure(connection, opts={"version_table_schema": schema}).get_current_heads()
        unknown = [revision for revision in current if revision not in known]
        if unknown:
            raise SchemaVersionError(
                f"database schema {schema!r} is at version {', '.join(unknown)}, which this tsforge does "
                f"not know (it knows up to {head}); run a newer tsforge or restore a matching backup"
            )
        if head in current:
            return head
        settings = AlembicConfig()
        settings.set_main_option("script_location", str(migrations_dir))
        settings.attributes.update(connection=connection, schema=schema)
        command.upgrade(settings, "head")  # runs migrations_dir/env.py: run_migrations() below
        log.info("migrated schema %s to %s", schema, head)
    return head


def run_migrations() -> None:
    """The body of every service's migrations/env.py: Alembic calls it from
    command.upgrade in migrate(), with the locked connection and the schema."""
    from alembic import context

    settings = context.config
    context.configure(
        connection=settings.attributes["connection"],
        version_table_schema=settings.attributes["schema"],
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
