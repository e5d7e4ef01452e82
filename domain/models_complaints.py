"""Complaints with their stages and escalations; satisfaction calls after an activity."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.complaints import ComplaintStatus
from domain.models import enum_field, ts_field


class Complaint(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # member / call / dealer
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    region_code: str | None = Field(default=None, max_length=32, index=True)
    subject: str
    body: str = ""
    status: ComplaintStatus = enum_field(ComplaintStatus, ComplaintStatus.filed, index=True)
    category: str | None = Field(default=None, max_length=32)
    severity: str | None = Field(default=None, max_length=16)
    handler: str | None = Field(default=None, max_length=64)
    answer: str = ""
    filed_by: str = Field(max_length=64)
    filed_at: datetime = ts_field(nullable=False)
    receive_due: date
    handle_due: date
    answer_due: date
    received_at: datetime | None = ts_field()
    handled_at: datetime | None = ts_field()
    answered_at: datetime | None = ts_field()
    closed_at: datetime | None = ts_field()
    closed_by: str | None = Field(default=None, max_length=64)  # member:<no> or auto
    late: bool = False  # some stage finished (or is still open) past its due date


class ComplaintAction(SQLModel, table=True):
    """One thing done on a complaint: received, an action while handling, the answer."""

    __tablename__ = "complaint_action"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    kind: str = Field(max_length=16)  # receive / action / handle / answer / confirm / close
    by: str = Field(max_length=64)
    at: datetime = ts_field(nullable=False)
    note: str = ""


class ComplaintEscalation(SQLModel, table=True):
    """A late stage escalated to one level: once per (complaint, stage, level)."""

    __tablename__ = "complaint_escalation"

    __table_args__ = (sa.UniqueConstraint("complaint_id", "stage", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    stage: str = Field(max_length=16)
    level: int
    at: datetime = ts_field(nullable=False)


class SatisfactionCall(SQLModel, table=True):
    """A sampled participant to call after an activity: once per (activity, member)."""

    __tablename__ = "satisfaction_call"

    __table_args__ = (sa.UniqueConstraint("activity_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    club_id: int | None = Field(default=None, foreign_key="club.id", index=True)
    token: str = Field(unique=True, max_length=64)
    created_at: datetime = ts_field(nullable=False)
    score: int | None = None
    comment: str = ""
    answered_by: str | None = Field(default=None, max_length=64)  # agent or member:<no>
    answered_at: datetime | None = ts_field()
