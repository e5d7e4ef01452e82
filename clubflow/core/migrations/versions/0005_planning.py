"""quarterly planning and rotation: rotation history, quarter plans, club slots and monthly
plan submissions, crossing challenges and scores, club content and dealer feedback returns.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crossing_challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(), nullable=False),
    sa.Column('from_region', sa.String(), nullable=False),
    sa.Column('to_region', sa.String(), nullable=False),
    sa.Column('message', sa.String(), nullable=False),
    sa.Column('challenged_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_region'], ['region.code'], ),
    sa.ForeignKeyConstraint(['to_region'], ['region.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quarter', 'from_region', 'to_region')
    )
    op.create_table('crossing_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(), nullable=False),
    sa.Column('region_code', sa.String(), nullable=False),
    sa.Column('activity_code', sa.String(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('feedback_score', sa.Float(), nullable=True),
    sa.Column('media_reach', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quarter')
    )
    with op.batch_alter_table('crossing_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crossing_score_year'), ['year'], unique=False)

    op.create_table('quarter_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(), nullable=False),
    sa.Column('crossing_region', sa.String(), nullable=False),
    sa.Column('crossing_theme', sa.String(), nullable=False),
    sa.Column('crossing_month', sa.Integer(), nullable=False),
    sa.Column('crossing_starts_on', sa.Date(), nullable=False),
    sa.Column('crossing_ends_on', sa.Date(), nullable=False),
    sa.Column('crossing_club', sa.String(), nullable=True),
    sa.Column('crossing_activity_code', sa.String(), nullable=False),
    sa.Column('gathering_title', sa.String(), nullable=True),
    sa.Column('gathering_starts_on', sa.Date(), nullable=True),
    sa.Column('gathering_ends_on', sa.Date(), nullable=True),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('ics_path', sa.String(), nullable=True),
    sa.Column('planned_by', sa.String(), nullable=False),
    sa.Column('flow_run_id', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['crossing_region'], ['region.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quarter')
    )
    op.create_table('rotation_hosting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(), nullable=False),
    sa.Column('region_code', sa.String(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('on_cycle', sa.Boolean(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('override', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('decided_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quarter')
    )
    with op.batch_alter_table('rotation_hosting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rotation_hosting_region_code'), ['region_code'], unique=False)

    op.create_table('dealer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('feedback', sa.String(), nullable=False),
    sa.Column('sales_units', sa.Integer(), nullable=True),
    sa.Column('referral_sales_units', sa.Integer(), nullable=True),
    sa.Column('service_revenue', sa.Float(), nullable=True),
    sa.Column('member_service_revenue', sa.Float(), nullable=True),
    sa.Column('submitted_by', sa.String(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dealer_id', 'month')
    )
    with op.batch_alter_table('dealer_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dealer_feedback_dealer_id'), ['dealer_id'], unique=False)

    op.create_table('club_content',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('club_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('reads', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['club_id'], ['club.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('club_id', 'external_id')
    )
    with op.batch_alter_table('club_content', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_club_content_club_id'), ['club_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_club_content_published_on'), ['published_on'], unique=False)

    op.create_table('club_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(), nullable=False),
    sa.Column('club_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('season', sa.String(), nullable=False),
    sa.Column('theme', sa.String(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['club_id'], ['club.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['quarter_plan.id'], ),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('club_id', 'month')
    )
    with op.batch_alter_table('club_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_club_slot_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_club_slot_quarter'), ['quarter'], unique=False)
        batch_op.create_index('ix_club_slot_status_due', ['status', 'due_on'], unique=False)

    op.create_table('monthly_plan_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('club_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('klass', sa.String(), nullable=False),
    sa.Column('theme', sa.String(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(), nullable=False),
    sa.Column('expected_participants', sa.Integer(), nullable=False),
    sa.Column('budget', sa.JSON(), nullable=False),
    sa.Column('subsidy_requested', sa.Float(), nullable=False),
    sa.Column('submitted_by', sa.String(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('activity_code', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['club_id'], ['club.id'], ),
    sa.ForeignKeyConstraint(['slot_id'], ['club_slot.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slot_id')
    )
    with op.batch_alter_table('monthly_plan_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_plan_submission_club_id'), ['club_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_plan_submission_status'), ['status'], unique=False)


def downgrade() -> None:
    for index, table in (
        ("ix_monthly_plan_submission_status", "monthly_plan_submission"),
        ("ix_monthly_plan_submission_club_id", "monthly_plan_submission"),
        ("ix_club_slot_status_due", "club_slot"),
        ("ix_club_slot_quarter", "club_slot"),
        ("ix_club_slot_plan_id", "club_slot"),
        ("ix_club_content_published_on", "club_content"),
        ("ix_club_content_club_id", "club_content"),
        ("ix_dealer_feedback_dealer_id", "dealer_feedback"),
        ("ix_rotation_hosting_region_code", "rotation_hosting"),
        ("ix_crossing_score_year", "crossing_score"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
    for table in (
        "monthly_plan_submission",
        "club_slot",
        "club_content",
        "dealer_feedback",
        "rotation_hosting",
        "quarter_plan",
        "crossing_score",
        "crossing_challenge",
    ):
        op.drop_table(table)
