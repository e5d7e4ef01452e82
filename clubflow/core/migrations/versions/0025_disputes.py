"""Disputes and emergencies (DOMAIN 11), and the activity's safety plan (DOMAIN 3): disputes
with their mediation steps and escalations, incidents with their actions; the activity's safety
plan and support vehicle.

Revision ID: 0025
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0021"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch_op:
        batch_op.add_column(
            sa.Column("safety_plan", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("support_vehicle", sa.String(), nullable=False, server_default="")
        )
    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("claimant", sa.String(), nullable=False),
        sa.Column("respondent", sa.String(), nullable=False),
        sa.Column("dealer_code", sa.String(length=32), nullable=True),
        sa.Column("outlet", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("ack_due_at", TS, nullable=False),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("resolve_due_at", TS, nullable=True),
        sa.Column("agreement", sa.String(), nullable=False),
        sa.Column("court", sa.String(), nullable=False),
        sa.Column("case_number", sa.String(), nullable=False),
        sa.Column("case_filed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dispute_code", "dispute", ["code"], unique=True)
    op.create_index("ix_dispute_status", "dispute", ["status"])
    op.create_table(
        "dispute_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["dispute.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dispute_step_dispute_id", "dispute_step", ["dispute_id"])
    op.create_table(
        "dispute_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(), nullable=False),
        sa.Column("escalated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["dispute.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dispute_id", "step", "level"),
    )
    op.create_index("ix_dispute_escalation_dispute_id", "dispute_escalation", ["dispute_id"])
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("activity_code", sa.String(length=64), nullable=True),
        sa.Column("outlet", sa.String(), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=True),
        sa.Column("place", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("recovery", sa.String(), nullable=False),
        sa.Column("lessons", sa.String(), nullable=False),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_code", "incident", ["code"], unique=True)
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_index("ix_incident_activity_code", "incident", ["activity_code"])
    op.create_table(
        "incident_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("responsible", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_action_incident_id", "incident_action", ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_action")
    op.drop_table("incident")
    op.drop_table("dispute_escalation")
    op.drop_table("dispute_step")
    op.drop_table("dispute")
    with op.batch_alter_table("activity") as batch_op:
        batch_op.drop_column("support_vehicle")
        batch_op.drop_column("safety_plan")
