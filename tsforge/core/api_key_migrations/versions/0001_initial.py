"""API keys: one row per key, its secret as a SHA-256 digest only.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("secret_sha256", sa.LargeBinary, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_use_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_time", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.create_index("api_keys_by_tenant", "api_keys", ["tenant", "create_time", "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("api_keys", schema=SCHEMA)
