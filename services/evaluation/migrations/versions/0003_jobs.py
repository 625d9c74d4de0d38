"""Evaluations become queued jobs with a numbered event log.

A worker claims a QUEUED evaluation (SELECT … FOR UPDATE SKIP LOCKED), owns it through
worker_id and attempt_count while COMPUTING, and heartbeats; a janitor queues again one
whose worker stopped heartbeating. Progress events go to evaluation_events, numbered by
last_event_sequence (tsforge.core.events). failure_retryable marks a FAILED evaluation
whose cause passes (a service unreachable): asking for it again queues it again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

SCHEMA = "evaluation"
QUEUED = 4  # tsforge.evaluation.v1.EVALUATION_STATE_QUEUED


def upgrade() -> None:
    for column in (
        sa.Column("attempt_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_event_sequence", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("worker_id", sa.Text, nullable=False, server_default=""),
        sa.Column("heartbeat_time", sa.DateTime(timezone=True)),
        sa.Column("start_time", sa.DateTime(timezone=True)),
        sa.Column("end_time", sa.DateTime(timezone=True)),
        sa.Column("failure_retryable", sa.Boolean, nullable=False, server_default=sa.false()),
    ):
        op.add_column("evaluations", column, schema=SCHEMA)
    # Workers look for the oldest QUEUED evaluations, janitors for stale COMPUTING ones.
    op.create_index(
        "evaluations_unfinished",
        "evaluations",
        ["state", "create_time"],
        schema=SCHEMA,
        postgresql_where=sa.text(f"state IN (1, {QUEUED})"),
    )
    op.create_table(
        "evaluation_events",
        sa.Column("job_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.evaluations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sequence", sa.BigInteger, primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        # The EvaluationEvent message, serialized.
        sa.Column("payload", sa.LargeBinary, nullable=False),
        schema=SCHEMA,
    )
