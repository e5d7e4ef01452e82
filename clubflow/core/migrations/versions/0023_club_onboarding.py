"""Club onboarding and rating: a club's status and registration time (seeded clubs are
active), its officers, its qualification checklist, monthly scores and yearly awards.

Revision ID: 0023
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("club") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "club_officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("club_id", "title"),
    )
    op.create_index("ix_club_officer_club_id", "club_officer", ["club_id"])
    op.create_table(
        "club_checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("club_id", "item"),
    )
    op.create_index("ix_club_checklist_item_club_id", "club_checklist_item", ["club_id"])
    op.create_table(
        "club_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("region_place", sa.Integer(), nullable=False),
        sa.Column("national_place", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("club_id", "month"),
    )
    op.create_index("ix_club_score_club_id", "club_score", ["club_id"])
    op.create_index("ix_club_score_month", "club_score", ["month"])
    op.create_table(
        "club_award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["club_id"], ["club.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "scope", "place"),
    )
    op.create_index("ix_club_award_year", "club_award", ["year"])


def downgrade() -> None:
    op.drop_table("club_award")
    op.drop_table("club_score")
    op.drop_table("club_checklist_item")
    op.drop_table("club_officer")
    with op.batch_alter_table("club") as batch:
        batch.drop_column("registered_at")
        batch.drop_column("status")
