"""Sessions, datasets, runs and their progress events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

SCHEMA = "training"


def _times(*names: str) -> list[sa.Column]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=name in ("start_time", "end_time", "heartbeat_time"))
        for name in names
    ]


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        # The DatasetSpec message in its proto3 JSON form.
        sa.Column("spec", postgresql.JSONB, nullable=False),
        *_times("create_time", "update_time"),
        schema=SCHEMA,
    )
    op.create_index("sessions_tenant_time", "sessions", ["tenant", "create_time", "id"], schema=SCHEMA)

    # Datasets and runs are jobs: workers claim QUEUED rows with FOR UPDATE SKIP
    # LOCKED, heartbeat while they work, and each has a numbered event log.
    def job_columns() -> list[sa.Column]:
        return [
            sa.Column("state", sa.SmallInteger, nullable=False),
            sa.Column("failure_reason", sa.Text, nullable=False, server_default=""),
            sa.Column("attempt_count", sa.Integer, nullable=False, server_default="0"),
            sa.Column("last_event_sequence", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("worker_id", sa.Text, nullable=False, server_default=""),
            *_times("create_time", "update_time", "start_time", "end_time", "heartbeat_time"),
        ]

    op.create_table(
        "datasets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("session_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.sessions.id", ondelete="CASCADE"), nullable=False),
        # The Dataset message (spec copy, shapes, counts, scalers, objects) as proto3 JSON.
        sa.Column("document", postgresql.JSONB, nullable=False),
        *job_columns(),
        schema=SCHEMA,
    )
    op.create_index("datasets_session_time", "datasets", ["session_id", "create_time", "id"], schema=SCHEMA)
    op.create_index("datasets_queue", "datasets", ["state", "create_time"], schema=SCHEMA)
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("session_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dataset_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        # The ModelResult messages (spec, state, history, artifacts) as proto3 JSON.
        sa.Column("models", postgresql.JSONB, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        *job_columns(),
        schema=SCHEMA,
    )
    op.create_index("runs_tenant_time", "runs", ["tenant", "create_time", "id"], schema=SCHEMA)
    op.create_index("runs_queue", "runs", ["state", "create_time"], schema=SCHEMA)
    op.create_table(
        "job_events",
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("sequence", sa.BigInteger, primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        # A serialized RunEvent or DatasetBuildEvent.
        sa.Column("payload", sa.LargeBinary, nullable=False),
        schema=SCHEMA,
    )
