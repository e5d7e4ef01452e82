"""The call agents' roster: days off and night cover on peak dates.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agentrosterday",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("night", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agent_id", "day"),
    )
    op.create_index("ix_agentrosterday_agent_id", "agentrosterday", ["agent_id"])
    op.create_index("ix_agentrosterday_day", "agentrosterday", ["day"])


def downgrade() -> None:
    op.drop_index("ix_agentrosterday_day", table_name="agentrosterday")
    op.drop_index("ix_agentrosterday_agent_id", table_name="agentrosterday")
    op.drop_table("agentrosterday")
