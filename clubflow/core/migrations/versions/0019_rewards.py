"""Spending points: the rewards catalogue and the vouchers members redeem.

Revision ID: 0019
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("voucher_days", sa.Integer(), nullable=False),
        sa.Column("refund_on_expiry", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("stock >= 0", name="ck_reward_stock"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reward_code", "reward", ["code"], unique=True)
    op.create_table(
        "voucher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("written_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("written_off_by", sa.String(), nullable=True),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["reward_id"], ["reward.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index("ix_voucher_code", "voucher", ["code"], unique=True)
    op.create_index("ix_voucher_reward_id", "voucher", ["reward_id"])
    op.create_index("ix_voucher_member_id", "voucher", ["member_id"])
    op.create_index("ix_voucher_status", "voucher", ["status"])
    op.create_index("ix_voucher_valid_until", "voucher", ["valid_until"])


def downgrade() -> None:
    op.drop_table("voucher")
    op.drop_table("reward")
