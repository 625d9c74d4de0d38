"""Seasons and the baseline metric join an evaluation's identity, with a method version.

Evaluations stored before every implied season was a baseline keep method_version 1;
new requests compute (and store) a method-2 evaluation beside them, so an old one
with a single one-day baseline is not served as if it had compared every season.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"

SCHEMA = "evaluation"


def upgrade() -> None:
    # The extra seasons as requested, ascending and unique.
    op.add_column(
        "evaluations",
        sa.Column("seasons", postgresql.ARRAY(sa.Integer), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    # The metric that picks the strongest baseline (0 on method-1 rows, which had none).
    op.add_column(
        "evaluations",
        sa.Column("baseline_metric", sa.SmallInteger, nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.add_column(
        "evaluations",
        sa.Column("method_version", sa.SmallInteger, nullable=False, server_default="1"),
        schema=SCHEMA,
    )
    op.drop_index("evaluations_identity", table_name="evaluations", schema=SCHEMA)
    op.create_index(
        "evaluations_identity",
        "evaluations",
        ["tenant", "run_id", "model", "season_steps", "infer_season", "seasons", "baseline_metric", "method_version"],
        unique=True,
        schema=SCHEMA,
    )
