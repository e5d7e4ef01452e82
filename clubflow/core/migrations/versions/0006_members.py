"""member lifecycle: segment on member; activation rounds, interactions, referral rewards,
segment snapshots and reactivation invitations.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("segment_since", sa.Date(), nullable=True))
        batch_op.create_index("ix_member_segment", ["segment"], unique=False)

    op.create_table(
        "member_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.String(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "round"),
    )
    with op.batch_alter_table("member_activation", schema=None) as batch_op:
        batch_op.create_index("ix_member_activation_member_id", ["member_id"], unique=False)
        batch_op.create_index("ix_member_activation_expires_on", ["expires_on"], unique=False)

    op.create_table(
        "member_interaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "ref"),
    )
    with op.batch_alter_table("member_interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_interaction_member_at", ["member_id", "occurred_at"], unique=False
        )

    op.create_table(
        "referral_reward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("referee_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("referrer_points", sa.Integer(), nullable=False),
        sa.Column("referee_points", sa.Integer(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("rewarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referee_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["referrer_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referee_id", "event"),
    )
    with op.batch_alter_table("referral_reward", schema=None) as batch_op:
        batch_op.create_index("ix_referral_reward_referrer_id", ["referrer_id"], unique=False)
        batch_op.create_index("ix_referral_reward_year", ["year"], unique=False)

    op.create_table(
        "member_segment_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(), nullable=True),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("newly_sleeping", sa.Integer(), nullable=False),
        sa.Column("reactivated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("as_of", "club_id", "segment"),
    )
    with op.batch_alter_table("member_segment_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_member_segment_snapshot_as_of", ["as_of"], unique=False)

    op.create_table(
        "member_reactivation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=True),
        sa.Column("sleeping_since", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reactivated_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "sleeping_since"),
    )
    with op.batch_alter_table("member_reactivation", schema=None) as batch_op:
        batch_op.create_index("ix_member_reactivation_member_id", ["member_id"], unique=False)
        batch_op.create_index(
            "ix_member_reactivation_reactivated_on", ["reactivated_on"], unique=False
        )


def downgrade() -> None:
    op.drop_table("member_reactivation")
    op.drop_table("member_segment_snapshot")
    op.drop_table("referral_reward")
    op.drop_table("member_interaction")
    op.drop_table("member_activation")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_segment")
        batch_op.drop_column("segment_since")
        batch_op.drop_column("segment")
