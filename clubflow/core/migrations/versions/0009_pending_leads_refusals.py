"""pending lead rows (retried by intake once the master data exists) and the refusal table.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leadreject", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("field", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("record", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("source_ref", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_leadreject_lead_id", "lead", ["lead_id"], ["id"])
        batch_op.create_index("ix_leadreject_pending", ["pending", "resolved_at"], unique=False)

    op.create_table(
        "refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refusal_action", "refusal", ["action"], unique=False)
    op.create_index("ix_refusal_subject", "refusal", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_refusal_subject", table_name="refusal")
    op.drop_index("ix_refusal_action", table_name="refusal")
    op.drop_table("refusal")
    with op.batch_alter_table("leadreject", schema=None) as batch_op:
        batch_op.drop_index("ix_leadreject_pending")
        batch_op.drop_constraint("fk_leadreject_lead_id", type_="foreignkey")
        for column in ("lead_id", "resolved_at", "source_ref", "record", "field", "pending"):
            batch_op.drop_column(column)
