"""The dealers' monthly return: the return sent to each dealer per month, the answer's
suggestions and WeChat group figures, and the kind and count of club content.

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dealer_return",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealer.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("report_md", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("dealer_id", "month"),
    )
    op.create_index("ix_dealer_return_dealer_id", "dealer_return", ["dealer_id"])
    op.create_index("ix_dealer_return_month", "dealer_return", ["month"])
    with op.batch_alter_table("dealer_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggestions", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("wechat_groups", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wechat_members", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True))
    # Content stored before kinds existed is posts, one each.
    with op.batch_alter_table("club_content", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="post")
        )
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("club_content", schema=None) as batch_op:
        batch_op.drop_column("submitted_by")
        batch_op.drop_column("count")
        batch_op.drop_column("kind")
    with op.batch_alter_table("dealer_feedback", schema=None) as batch_op:
        batch_op.drop_column("corrected_at")
        batch_op.drop_column("wechat_members")
        batch_op.drop_column("wechat_groups")
        batch_op.drop_column("suggestions")
    op.drop_index("ix_dealer_return_month", table_name="dealer_return")
    op.drop_index("ix_dealer_return_dealer_id", table_name="dealer_return")
    op.drop_table("dealer_return")
