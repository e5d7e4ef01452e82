"""leadrevisit: the result each weekly revisit call reports (result, when, by whom, note) and
whether it took the lead off the list.

Revision ID: 0013
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leadrevisit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("result_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("result_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(), nullable=True))
        # Revisits listed before this revision had no result: none closed its lead.
        batch_op.add_column(
            sa.Column("closed_lead", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("leadrevisit", schema=None) as batch_op:
        for column in ("closed_lead", "note", "result_by", "result_at", "result"):
            batch_op.drop_column(column)
