"""What each dataset and run stores in the object store, for the tenant's byte quota.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

SCHEMA = "training"

# The sizes the documents already record (proto3 JSON: int64 values are strings).
_DATASET_BYTES = """
UPDATE training.datasets SET stored_bytes = (
    SELECT coalesce(sum((o->'object'->>'size_bytes')::bigint), 0)
    FROM jsonb_array_elements(coalesce(document->'objects', '[]'::jsonb)) AS o
)
"""
_RUN_BYTES = """
UPDATE training.runs SET stored_bytes = (
    SELECT coalesce(sum(
        coalesce((m->'artifact'->>'size_bytes')::bigint, 0)
        + (SELECT coalesce(sum((p->'object'->>'size_bytes')::bigint), 0)
           FROM jsonb_array_elements(coalesce(m->'predictions', '[]'::jsonb)) AS p)
    ), 0)
    FROM jsonb_array_elements(models) AS m
)
"""


def upgrade() -> None:
    for table in ("datasets", "runs"):
        op.add_column(
            table, sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"), schema=SCHEMA
        )
    op.execute(_DATASET_BYTES)
    op.execute(_RUN_BYTES)


def downgrade() -> None:
    for table in ("datasets", "runs"):
        op.drop_column(table, "stored_bytes", schema=SCHEMA)
