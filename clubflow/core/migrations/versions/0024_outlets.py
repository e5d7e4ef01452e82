"""Second-tier outlets (二网): the outlet under its parent dealer, its qualification documents,
and the outlet a handed-off lead was named for.

Revision ID: 0024
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outlet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(), nullable=False),
        sa.Column("contact_phone", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("passed", sa.JSON(), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outlet_code", "outlet", ["code"], unique=True)
    op.create_index("ix_outlet_dealer_id", "outlet", ["dealer_id"])
    op.create_index("ix_outlet_status", "outlet", ["status"])
    op.create_table(
        "outletdocument",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("link", sa.String(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlet.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outlet_id", "kind"),
    )
    op.create_index("ix_outletdocument_outlet_id", "outletdocument", ["outlet_id"])
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("outlet_code", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("outlet_code")
    op.drop_index("ix_outletdocument_outlet_id", table_name="outletdocument")
    op.drop_table("outletdocument")
    op.drop_index("ix_outlet_status", table_name="outlet")
    op.drop_index("ix_outlet_dealer_id", table_name="outlet")
    op.drop_index("ix_outlet_code", table_name="outlet")
    op.drop_table("outlet")
