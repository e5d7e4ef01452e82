"""The confirmed quarter plan, activity materials and preparation, competitor tracking:
HQ's confirmation of a draft plan (who, when, changes, reason), one materials record per
class A/B/C activity, competitors' activities and the operator's monthly report.

Revision ID: 0017
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarter_confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("gate_id", sa.Integer(), nullable=True),
        sa.Column("drafted_host", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("crossing_starts_on", sa.Date(), nullable=False),
        sa.Column("crossing_ends_on", sa.Date(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("confirmed_by", sa.String(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["gate_id"], ["gate.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["quarter_plan.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter"),
    )
    op.create_table(
        "activity_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("preparation_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("handbook", sa.String(), nullable=False),
        sa.Column("operations", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id"),
    )
    with op.batch_alter_table("activity_materials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_materials_status_due", ["status", "due_on"], unique=False
        )
    op.create_table(
        "competitor_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(), nullable=False),
        sa.Column("activity_type", sa.String(), nullable=False),
        sa.Column("features", sa.String(), nullable=False),
        sa.Column("region_code", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("assessment", sa.String(), nullable=False),
        sa.Column("entered_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand", "activity_type", "region_code", "starts_on"),
    )
    with op.batch_alter_table("competitor_activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competitor_activity_month"), ["month"], unique=False)
    op.create_table(
        "competitor_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month"),
    )


def downgrade() -> None:
    op.drop_table("competitor_report")
    with op.batch_alter_table("competitor_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competitor_activity_month"))
    op.drop_table("competitor_activity")
    with op.batch_alter_table("activity_materials", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_materials_status_due")
    op.drop_table("activity_materials")
    op.drop_table("quarter_confirmation")
