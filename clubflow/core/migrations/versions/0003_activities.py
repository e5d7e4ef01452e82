"""activity lifecycle: dated steps and proposal snapshot on activity, claim decision columns,
the activity archive.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        # Existing rows get an empty snapshot; new ones always carry their proposal.
        batch_op.add_column(
            sa.Column("proposal", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("warmup_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recap_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("points_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_reason", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("review_round", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.create_index("ix_activity_points_on", ["points_on"], unique=False)
        batch_op.create_index("ix_activity_recap_due_on", ["recap_due_on"], unique=False)
        batch_op.create_index("ix_activity_warmup_on", ["warmup_on"], unique=False)
    with op.batch_alter_table("recap", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_path", sa.String(), nullable=True))
    with op.batch_alter_table("subsidyclaim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("total_proposed", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("paid_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("payment_ref", sa.String(), nullable=True))
    with op.batch_alter_table("subsidyline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposal_rule", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subsidyline", schema=None) as batch_op:
        batch_op.drop_column("proposal_rule")
    with op.batch_alter_table("subsidyclaim", schema=None) as batch_op:
        batch_op.drop_column("payment_ref")
        batch_op.drop_column("paid_by")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("total_proposed")
    with op.batch_alter_table("recap", schema=None) as batch_op:
        batch_op.drop_column("report_path")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_warmup_on")
        batch_op.drop_index("ix_activity_recap_due_on")
        batch_op.drop_index("ix_activity_points_on")
        batch_op.drop_column("review_round")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("cancelled_reason")
        batch_op.drop_column("points_on")
        batch_op.drop_column("recap_due_on")
        batch_op.drop_column("warmup_on")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("proposal")
    op.drop_table("activity_archive")
