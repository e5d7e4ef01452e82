"""Tables of the confirmed quarter plan, activity materials and preparation, and
competitor tracking.

Natural keys carry idempotency: one confirmation per quarter, one materials record per
activity, one competitor entry per (brand, type, region, start), one report per month.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class QuarterConfirmation(SQLModel, table=True):
    """HQ's confirmation of a quarter's draft plan: who, when, what changed and why."""

    __tablename__ = "quarter_confirmation"

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(unique=True, max_length=8)
    plan_id: int = Field(foreign_key="quarter_plan.id")
    gate_id: int | None = Field(default=None, foreign_key="gate.id")
    drafted_host: str = Field(max_length=32)
    host: str = Field(max_length=32)
    crossing_starts_on: date
    crossing_ends_on: date
    changes: list[str] = json_field(list)
    reason: str = ""
    confirmed_by: str = Field(max_length=64)
    confirmed_at: datetime = ts_field(nullable=False, default_now=True)


class ActivityMaterials(SQLModel, table=True):
    """The handbook and operations materials of one class A/B/C activity, and its
    preparation start; the dated steps remind and escalate from these dates."""

    __tablename__ = "activity_materials"
    __table_args__ = (sa.Index("ix_activity_materials_status_due", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", unique=True)
    due_on: date
    preparation_on: date
    status: str = "due"  # due / submitted / returned / confirmed
    round: int = 1  # a return opens the next round
    handbook: str = ""  # a link or a stored file's name
    operations: str = ""
    note: str = ""
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: datetime | None = ts_field()
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = ts_field()
    return_reason: str = ""
    created_at: datetime = ts_field(nullable=False, default_now=True)


class CompetitorActivity(SQLModel, table=True):
    """A competitor's activity the operator tracked, in the month it starts."""

    __tablename__ = "competitor_activity"
    __table_args__ = (sa.UniqueConstraint("brand", "activity_type", "region_code", "starts_on"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(index=True)  # first day of the month it starts
    brand: str = Field(max_length=64)
    activity_type: str = Field(max_length=60)
    features: str = ""
    region_code: str = Field(foreign_key="region.code")
    starts_on: date
    ends_on: date
    assessment: str = ""
    entered_by: str = Field(max_length=64)
    created_at: datetime = ts_field(nullable=False, default_now=True)


class CompetitorReport(SQLModel, table=True):
    """The operator's monthly competitor report, submitted by its due date."""

    __tablename__ = "competitor_report"

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(unique=True)
    due_on: date
    entries: int = 0
    path: str = ""  # the rendered report
    submitted_by: str = Field(max_length=64)
    submitted_at: datetime = ts_field(nullable=False, default_now=True)
