"""Alembic's entry point for the API keys' migrations; tsforge.core.db.migrate runs it."""

from tsforge.core.db import run_migrations

run_migrations()
