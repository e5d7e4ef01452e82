"""Complaints (受理 → 处理 → 反馈) with their actions and escalations; satisfaction calls
after an activity.

Revision ID: 0022
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=True),
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealer.id"), nullable=True),
        sa.Column("region_code", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("receive_due", sa.Date(), nullable=False),
        sa.Column("handle_due", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("received_at", TS, nullable=True),
        sa.Column("handled_at", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_complaint_member_id", "complaint", ["member_id"])
    op.create_index("ix_complaint_region_code", "complaint", ["region_code"])
    op.create_index("ix_complaint_status", "complaint", ["status"])

    op.create_table(
        "complaint_action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaint.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("note", sa.String(), nullable=False),
    )
    op.create_index("ix_complaint_action_complaint_id", "complaint_action", ["complaint_id"])

    op.create_table(
        "complaint_escalation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaint.id"), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("complaint_id", "stage", "level"),
    )
    op.create_index(
        "ix_complaint_escalation_complaint_id", "complaint_escalation", ["complaint_id"]
    )

    op.create_table(
        "satisfaction_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id"), nullable=False),
        sa.Column("club_id", sa.Integer(), sa.ForeignKey("club.id"), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(), nullable=False),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.UniqueConstraint("activity_id", "member_id"),
    )
    op.create_index("ix_satisfaction_call_activity_id", "satisfaction_call", ["activity_id"])
    op.create_index("ix_satisfaction_call_member_id", "satisfaction_call", ["member_id"])
    op.create_index("ix_satisfaction_call_club_id", "satisfaction_call", ["club_id"])


def downgrade() -> None:
    op.drop_table("satisfaction_call")
    op.drop_table("complaint_escalation")
    op.drop_table("complaint_action")
    op.drop_table("complaint")
