"""Registered models, their numbered versions and aliases.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

SCHEMA = "models"


def _times() -> list[sa.Column]:
    return [sa.Column(name, sa.DateTime(timezone=True), nullable=False) for name in ("create_time", "update_time")]


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tags", postgresql.JSONB, nullable=False, server_default="{}"),
        # Highest number handed out; bumped in the same statement that registers a
        # version, so numbers are never reused and concurrent registrations serialise.
        sa.Column("latest_version", sa.BigInteger, nullable=False, server_default="0"),
        *_times(),
        schema=SCHEMA,
    )
    op.create_index("registered_models_tags", "registered_models", ["tags"], postgresql_using="gin", schema=SCHEMA)
    op.create_table(
        "model_versions",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("model_name", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, primary_key=True),
        sa.Column("source_model", sa.Text, nullable=False),
        # A serialized ModelLineage: read back whole with every version, so binary
        # protobuf (microseconds) rather than JSON (a list call parses many).
        sa.Column("lineage", sa.LargeBinary, nullable=False),
        sa.Column("model_type", sa.SmallInteger, nullable=False),
        sa.Column("artifact_format", sa.SmallInteger, nullable=False),
        sa.Column("formats", postgresql.ARRAY(sa.SmallInteger), nullable=False),
        # Every object of the version lies under this prefix of "models/".
        sa.Column("storage_prefix", sa.Text, nullable=False),
        # ObjectRefs (serialized) of the native artifact and the bundle.
        sa.Column("artifact", sa.LargeBinary, nullable=False),
        sa.Column("bundle", sa.LargeBinary, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tags", postgresql.JSONB, nullable=False, server_default="{}"),
        *_times(),
        sa.ForeignKeyConstraint(
            ["tenant", "model_name"],
            [f"{SCHEMA}.registered_models.tenant", f"{SCHEMA}.registered_models.name"],
            ondelete="CASCADE",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "model_aliases",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("model_name", sa.Text, primary_key=True),
        sa.Column("alias", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        # No cascade: a version an alias points at cannot be deleted, even by a
        # request that raced the alias move.
        sa.ForeignKeyConstraint(
            ["tenant", "model_name", "version"],
            [
                f"{SCHEMA}.model_versions.tenant",
                f"{SCHEMA}.model_versions.model_name",
                f"{SCHEMA}.model_versions.version",
            ],
        ),
        schema=SCHEMA,
    )
    op.create_index("model_aliases_version", "model_aliases", ["tenant", "model_name", "version"], schema=SCHEMA)
