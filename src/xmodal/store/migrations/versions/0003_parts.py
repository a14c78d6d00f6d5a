"""Schema 3: items.parent_id (an item made of several media: each part is a row naming its item) and
items.piece (a part that is a piece of its item's file: a video's frame or soundtrack).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild): the keyword index's triggers on `items` stay as they are.
    op.add_column("items", sa.Column("parent_id", sa.Integer(), nullable=True))
    op.create_index("ix_items_parent_id", "items", ["parent_id"])
    op.add_column("items", sa.Column("piece", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "piece")
    op.drop_index("ix_items_parent_id", "items")
    op.drop_column("items", "parent_id")
