"""campaign pipeline and gate machinery: plan policy/notes, campaign run and report columns,
gate subject code/kind/escalation recipient, decision payload.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handbook_url", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("flow_run_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("spend_total", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("report_path", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("campaignplanversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("note", sa.String(), nullable=False, server_default=""))

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=False, server_default="{}"))

    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject_code", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("subject_title", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="approval"))
        batch_op.add_column(
            sa.Column(
                "escalate_to", sa.String(), nullable=False, server_default="role:campaign_manager"
            )
        )
        batch_op.create_index(batch_op.f("ix_gate_subject_code"), ["subject_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gate_subject_code"))
        batch_op.drop_column("escalate_to")
        batch_op.drop_column("kind")
        batch_op.drop_column("subject_title")
        batch_op.drop_column("subject_code")

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("payload")

    with op.batch_alter_table("campaignplanversion", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("policy")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("report_path")
        batch_op.drop_column("spend_total")
        batch_op.drop_column("flow_run_id")
        batch_op.drop_column("handbook_url")
