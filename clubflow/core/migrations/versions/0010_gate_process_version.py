"""gate.process_version: the `<flow>@<version>` of the code that opened a gate for its run.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: gates opened before this revision have no recorded version.
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_version", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.drop_column("process_version")
