"""Club onboarding deadlines: the sweep's marks on each checklist item (review reminded and
escalated, the official account's due-date reminder and lateness escalation).

Revision ID: 0026
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0022"
branch_labels = None
depends_on = None

COLUMNS = ("review_reminded_at", "review_escalated_at", "due_reminded_at", "due_escalated_at")


def upgrade() -> None:
    with op.batch_alter_table("club_checklist_item") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("club_checklist_item") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
