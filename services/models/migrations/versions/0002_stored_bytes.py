"""What each version's objects take in the store, for the tenant's byte quota.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from tsforge.common.v1 import common_pb2

revision = "0002"
down_revision = "0001"

SCHEMA = "models"


def upgrade() -> None:
    op.add_column(
        "model_versions",
        sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    # The artifact and bundle sizes the version's refs record (serialized ObjectRefs).
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT tenant, model_name, version, artifact, bundle FROM models.model_versions")
    )
    for tenant, model_name, version, artifact, bundle in rows.all():
        size = sum(common_pb2.ObjectRef.FromString(bytes(ref)).size_bytes for ref in (artifact, bundle))
        connection.execute(
            sa.text(
                "UPDATE models.model_versions SET stored_bytes = :size"
                " WHERE tenant = :tenant AND model_name = :model_name AND version = :version"
            ),
            {"size": size, "tenant": tenant, "model_name": model_name, "version": version},
        )


def downgrade() -> None:
    op.drop_column("model_versions", "stored_bytes", schema=SCHEMA)
