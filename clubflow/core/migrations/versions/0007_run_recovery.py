"""run recovery: what the recovery sweep did about runs whose process died.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_recovery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=False),
        sa.Column("flow_run_name", sa.String(), nullable=False),
        sa.Column("deployment", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("found_state", sa.String(length=32), nullable=False),
        sa.Column("problem", sa.String(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovered_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_run_id", "attempt"),
    )
    with op.batch_alter_table("run_recovery", schema=None) as batch_op:
        batch_op.create_index("ix_run_recovery_flow_run_id", ["flow_run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("run_recovery")
