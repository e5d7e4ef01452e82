"""lead intake, call plan and hand-off: tables and columns of this area.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dealerrotation",
        sa.Column("city", sa.String(), nullable=False),
        sa.Column("last_dealer_code", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("city"),
    )
    op.create_table(
        "leadsourcecursor",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("cursor", sa.String(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "leadreject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("raw", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["leadimport.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("import_id", "line_no"),
    )
    with op.batch_alter_table("leadreject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leadreject_import_id"), ["import_id"], unique=False)
    op.create_table(
        "leadhandoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(), nullable=True),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "round"),
    )
    with op.batch_alter_table("leadhandoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leadhandoff_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            "ix_leadhandoff_open_due", ["accepted_at", "bounced_at", "due_at"], unique=False
        )
    op.create_table(
        "leadrevisit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "week_of"),
    )
    with op.batch_alter_table("leadrevisit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leadrevisit_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leadrevisit_week_of"), ["week_of"], unique=False)

    with op.batch_alter_table("callattempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "recorded_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        # One index per query shape (each costs every insert): the single-column ones give way
        # to the composite ix_lead_open_work; no query searches leads by dealer.
        batch_op.drop_index("ix_lead_agent_id")
        batch_op.drop_index("ix_lead_arrived_at")
        batch_op.drop_index("ix_lead_next_call_due")
        batch_op.drop_index("ix_lead_status")
        batch_op.drop_index("ix_lead_dealer_id")
        batch_op.add_column(sa.Column("source_ref", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("call_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("third_call_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("appointment_notified_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("handoff_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_lead_source_ref", ["source_ref"], unique=True)
        batch_op.create_index(
            "ix_lead_open_work",
            ["status", "next_call_due", "agent_id", "listed_at", "appointment_at"],
            unique=False,
        )
        batch_op.create_index("ix_lead_assigned_at", ["assigned_at"], unique=False)
    with op.batch_alter_table("leadimport", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="leads"))
        batch_op.add_column(sa.Column("encoding", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("business_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leadimport", schema=None) as batch_op:
        batch_op.drop_column("business_day")
        batch_op.drop_column("encoding")
        batch_op.drop_column("kind")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_assigned_at")
        batch_op.drop_index("ix_lead_open_work")
        batch_op.drop_index("ix_lead_source_ref")
        batch_op.drop_column("converted_at")
        batch_op.drop_column("handoff_round")
        batch_op.drop_column("appointment_notified_at")
        batch_op.drop_column("listed_at")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("third_call_due")
        batch_op.drop_column("call_day")
        batch_op.drop_column("source_ref")
        batch_op.create_index("ix_lead_status", ["status"], unique=False)
        batch_op.create_index("ix_lead_next_call_due", ["next_call_due"], unique=False)
        batch_op.create_index("ix_lead_arrived_at", ["arrived_at"], unique=False)
        batch_op.create_index("ix_lead_agent_id", ["agent_id"], unique=False)
        batch_op.create_index("ix_lead_dealer_id", ["dealer_id"], unique=False)
    with op.batch_alter_table("callattempt", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("resolution")
    with op.batch_alter_table("leadrevisit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leadrevisit_week_of"))
        batch_op.drop_index(batch_op.f("ix_leadrevisit_lead_id"))
    op.drop_table("leadrevisit")
    with op.batch_alter_table("leadhandoff", schema=None) as batch_op:
        batch_op.drop_index("ix_leadhandoff_open_due")
        batch_op.drop_index(batch_op.f("ix_leadhandoff_lead_id"))
    op.drop_table("leadhandoff")
    with op.batch_alter_table("leadreject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leadreject_import_id"))
    op.drop_table("leadreject")
    op.drop_table("leadsourcecursor")
    op.drop_table("dealerrotation")
