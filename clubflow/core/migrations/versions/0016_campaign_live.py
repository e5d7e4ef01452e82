"""Campaigns from build to live: platform resource slots, dealers' training attendance, live
KPI snapshots; the plan's training time and how to join; the live report's artifact.

Revision ID: 0016
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("training_join", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("live_artifact_id", sa.String(length=64), nullable=True))

    op.create_table(
        "campaign_slot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("key_date", sa.Date(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("granted_qty", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "name"),
    )
    op.create_index("ix_campaign_slot_campaign_id", "campaign_slot", ["campaign_id"])

    op.create_table(
        "campaign_training_attendance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("dealer_code", sa.String(length=32), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "dealer_code"),
    )
    op.create_index(
        "ix_campaign_training_attendance_campaign_id",
        "campaign_training_attendance",
        ["campaign_id"],
    )

    op.create_table(
        "campaign_kpi_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("kpi", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "kpi", "day"),
    )
    op.create_index(
        "ix_campaign_kpi_snapshot_campaign_id", "campaign_kpi_snapshot", ["campaign_id"]
    )


def downgrade() -> None:
    op.drop_table("campaign_kpi_snapshot")
    op.drop_table("campaign_training_attendance")
    op.drop_table("campaign_slot")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("live_artifact_id")
        batch_op.drop_column("training_join")
        batch_op.drop_column("training_at")
