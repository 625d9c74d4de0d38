"""Evaluations and their metric tables.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

SCHEMA = "evaluation"


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        # "runs/{run}/models/{model}", or "" for every model of the run.
        sa.Column("model", sa.Text, nullable=False),
        # The options as requested: with tenant, run and model, the evaluation's identity.
        sa.Column("season_steps", sa.Integer, nullable=False),
        sa.Column("infer_season", sa.Boolean, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=False, server_default=""),
        # What was evaluated: {"models": [...], "features": [...], "season_steps": m}.
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    # One evaluation per identity: concurrent requests meet here, one computes.
    op.create_index(
        "evaluations_identity",
        "evaluations",
        ["tenant", "run_id", "model", "season_steps", "infer_season"],
        unique=True,
        schema=SCHEMA,
    )
    op.create_index("evaluations_tenant_time", "evaluations", ["tenant", "create_time", "id"], schema=SCHEMA)
    op.create_table(
        "metric_tables",
        sa.Column(
            "evaluation_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.evaluations.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("kind", sa.SmallInteger, primary_key=True),
        sa.Column("split", sa.SmallInteger, primary_key=True),
        sa.Column("units", sa.SmallInteger, primary_key=True),
        # RANKING: the metric ranked by; 0 for the other kinds.
        sa.Column("rank_metric", sa.SmallInteger, primary_key=True),
        # The MetricTable message as proto3 JSON.
        sa.Column("document", postgresql.JSONB, nullable=False),
        schema=SCHEMA,
    )
