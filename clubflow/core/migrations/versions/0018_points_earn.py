"""Points earned by spending and their review: the dealer system's transactions (yuan per
purchase, service or parts bill), the monthly budget warning, the daily anomaly flags.

Revision ID: 0018
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txn_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_yuan", sa.Numeric(14, 2), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("txn_id"),
    )
    with op.batch_alter_table("member_transaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_transaction_member_kind", ["member_id", "kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_transaction_occurred_at"), ["occurred_at"], unique=False
        )
    op.create_table(
        "points_budget_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("issued_points", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month"),
    )
    op.create_table(
        "points_anomaly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "day"),
    )
    with op.batch_alter_table("points_anomaly", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_anomaly_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("points_anomaly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_anomaly_day"))
    op.drop_table("points_anomaly")
    op.drop_table("points_budget_warning")
    with op.batch_alter_table("member_transaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_transaction_occurred_at"))
        batch_op.drop_index("ix_member_transaction_member_kind")
    op.drop_table("member_transaction")
