"""Retention and consent: members' contact consent (current and history), lost members'
call-backs and their calls, sleeping members' monthly offers, and each notification's
purpose (service / marketing).

Revision ID: 0021
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(), nullable=False, server_default="service")
        )
    op.create_table(
        "member_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "channel", "purpose"),
    )
    op.create_index("ix_member_consent_member_id", "member_consent", ["member_id"])
    op.create_table(
        "member_consent_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_member_consent_change_member_id", "member_consent_change", ["member_id"])
    op.create_table(
        "member_callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=True),
        sa.Column("lost_since", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("next_call_no", sa.Integer(), nullable=False),
        sa.Column("next_call_due", sa.Date(), nullable=True),
        sa.Column("call_day", sa.Date(), nullable=False),
        sa.Column("third_call_due", sa.Date(), nullable=False),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("churn_reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reactivated_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "lost_since"),
    )
    op.create_index("ix_member_callback_member_id", "member_callback", ["member_id"])
    op.create_index("ix_member_callback_agent_id", "member_callback", ["agent_id"])
    op.create_index("ix_member_callback_status", "member_callback", ["status"])
    op.create_index("ix_member_callback_reactivated_on", "member_callback", ["reactivated_on"])
    op.create_table(
        "member_callback_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("call_no", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("churn_reason", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["member_callback.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("callback_id", "call_no"),
    )
    op.create_index("ix_member_callback_call_callback_id", "member_callback_call", ["callback_id"])
    op.create_table(
        "member_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "month"),
    )
    op.create_index("ix_member_offer_member_id", "member_offer", ["member_id"])


def downgrade() -> None:
    op.drop_table("member_offer")
    op.drop_table("member_callback_call")
    op.drop_table("member_callback")
    op.drop_table("member_consent_change")
    op.drop_table("member_consent")
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_column("purpose")
