"""The portal: sign-in codes, sessions, attempts, the audit trail, claim evidence files;
one-time decision codes and one artifact per gate; dealer staff and portal passwords;
a lead handed back by its dealer.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dealer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(), nullable=True))
        batch_op.create_foreign_key("fk_person_dealer_id", "dealer", ["dealer_id"], ["id"])
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("artifact_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("leadhandoff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned_reason", sa.String(), nullable=True))

    op.create_table(
        "decisioncode",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("gate_id", sa.Integer(), sa.ForeignKey("gate.id"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_decisioncode_gate_id", "decisioncode", ["gate_id"])

    op.create_table(
        "signincode",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("who", sa.String(length=80), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_signincode_who", "signincode", ["who"])

    op.create_table(
        "portalsession",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(length=128), nullable=False, unique=True),
        sa.Column("who", sa.String(length=80), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_portalsession_who", "portalsession", ["who"])

    op.create_table(
        "signinattempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_signinattempt_key", "signinattempt", ["key"])
    op.create_index("ix_signinattempt_at", "signinattempt", ["at"])

    op.create_table(
        "portalaudit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=256), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=256), nullable=False),
    )
    op.create_index("ix_portalaudit_at", "portalaudit", ["at"])
    op.create_index("ix_portalaudit_actor", "portalaudit", ["actor"])
    op.create_index("ix_portalaudit_action", "portalaudit", ["action"])

    op.create_table(
        "evidencefile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("activity_id", "sha256"),
    )
    op.create_index("ix_evidencefile_activity_id", "evidencefile", ["activity_id"])


def downgrade() -> None:
    for table in ("evidencefile", "portalaudit", "signinattempt", "portalsession", "signincode"):
        op.drop_table(table)
    op.drop_table("decisioncode")
    with op.batch_alter_table("leadhandoff", schema=None) as batch_op:
        batch_op.drop_column("returned_reason")
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.drop_column("artifact_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_dealer_id", type_="foreignkey")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("dealer_id")
