"""Uploads, their parts and pending bytes, and files with their profiles.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None

SCHEMA = "upload"


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("role", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("declared_size_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("declared_sha256", sa.Text, nullable=False, server_default=""),
        sa.Column("received_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("multipart_id", sa.Text, nullable=False),
        sa.Column("pending_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("uploads_tenant_time", "uploads", ["tenant", "create_time", "id"], schema=SCHEMA)
    op.create_index("uploads_update_time", "uploads", ["update_time"], schema=SCHEMA)
    op.create_table(
        "upload_parts",
        sa.Column("upload_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.uploads.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("etag", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        schema=SCHEMA,
    )
    # Bytes received but not yet a whole object-store part (S3 parts must be >= 5 MiB):
    # held here, at most one part per upload, so any replica can take the next chunk.
    op.create_table(
        "upload_pending_chunks",
        sa.Column("upload_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.uploads.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("offset_bytes", sa.BigInteger, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("role", sa.SmallInteger, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("profile", postgresql.JSONB, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("files_tenant_time", "files", ["tenant", "create_time", "id"], schema=SCHEMA)
