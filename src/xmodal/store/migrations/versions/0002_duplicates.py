"""Schema 2: duplicates (another path of an item's content, embedded once).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicates",
        sa.Column("path", sa.LargeBinary(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("mtime", sa.Float(), nullable=True),
    )
    op.create_index("ix_duplicates_item_id", "duplicates", ["item_id"])


def downgrade() -> None:
    op.drop_table("duplicates")
