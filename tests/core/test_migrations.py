"""Migrations: applied once, idempotent, and a database from the future is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.upload.server import DEFINITION
from tsforge.core.db import SchemaVersionError, migrate

SCHEMA, MIGRATIONS = DEFINITION.schema, DEFINITION.migrations


def _set_version(db, version: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text(f'UPDATE "{SCHEMA}".alembic_version SET version_num = :v'), {"v": version})


def test_migrate_creates_the_schema_once_and_refuses_an_unknown_version(db):
    assert migrate(db.engine, SCHEMA, MIGRATIONS) == "0001"
    assert migrate(db.engine, SCHEMA, MIGRATIONS) == "0001"  # already there: nothing to do
    with db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names(schema=SCHEMA))
    assert {"uploads", "upload_parts", "upload_pending_chunks", "files", "alembic_version"} <= tables

    _set_version(db, "0999")  # as if a newer tsforge had migrated this database
    try:
        with pytest.raises(SchemaVersionError, match="0999"):
            migrate(db.engine, SCHEMA, MIGRATIONS)
    finally:
        _set_version(db, "0001")
