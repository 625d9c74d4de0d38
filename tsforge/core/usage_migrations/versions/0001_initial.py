"""The byte ledger: what each service stores for each tenant.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

SCHEMA = "accounting"


def upgrade() -> None:
    op.create_table(
        "stored_bytes",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, primary_key=True),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("stored_bytes", schema=SCHEMA)
