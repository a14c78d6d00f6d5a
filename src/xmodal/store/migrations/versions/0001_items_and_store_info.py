"""Schema 1: items (one row per file or inline text) and store_info (what the store records about itself).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("path", sa.LargeBinary(), nullable=True),  # file-system bytes: any file name survives
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("mtime", sa.Float(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("external_id"),
        sa.UniqueConstraint("path"),
        sqlite_autoincrement=True,  # an id is never reused, even after a delete
    )
    for column in ("content_hash", "modality", "status"):
        op.create_index(f"ix_items_{column}", "items", [column])
    op.create_table(
        "store_info",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_info")
    op.drop_table("items")
