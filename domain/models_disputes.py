"""Tables of disputes (纠纷) and emergencies (突发事件): DOMAIN 11.

A dispute is filed, acknowledged (受理) by a deadline, mediated (调解: meetings and proposals)
and ends settled or in litigation (诉讼). An incident is reported, handled (actions with the
responsible person) and closed with its recovery and lessons learned.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class Dispute(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)  # DSP-<date>-<n>
    kind: str = Field(max_length=32)  # domain.disputes.DISPUTE_KINDS
    claimant: str  # party name and masked phone, as filed
    respondent: str
    dealer_code: str | None = Field(default=None, max_length=32)
    outlet: str = ""  # the outlet by code or name (free text)
    summary: str
    status: str = Field(default="filed", index=True)  # filed/mediating/settled/litigation
    filed_by: str = Field(max_length=64)
    filed_at: datetime = ts_field(nullable=False)
    ack_due_at: datetime = ts_field(nullable=False)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = ts_field()
    resolve_due_at: datetime | None = ts_field()
    agreement: str = ""
    court: str = ""
    case_number: str = ""
    case_filed_on: date | None = None
    closed_by: str | None = None
    closed_at: datetime | None = ts_field()


class DisputeStep(SQLModel, table=True):
    """One mediation step: a meeting or a proposal (who, when, what)."""

    __tablename__ = "dispute_step"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    kind: str = Field(max_length=16)  # meeting / proposal
    held_on: date
    what: str
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = ts_field(nullable=False)


class DisputeEscalation(SQLModel, table=True):
    """An overdue step escalated: once per dispute, step and level."""

    __tablename__ = "dispute_escalation"
    __table_args__ = (sa.UniqueConstraint("dispute_id", "step", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    step: str = Field(max_length=16)  # acknowledge / resolve
    level: int
    escalated_to: str
    escalated_at: datetime = ts_field(nullable=False)


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)  # INC-<date>-<n>
    kind: str = Field(max_length=32)  # domain.disputes.INCIDENT_KINDS
    activity_code: str | None = Field(default=None, max_length=64, index=True)
    outlet: str = ""
    region_code: str | None = Field(default=None, max_length=32)
    place: str = ""
    what: str
    reporter: str = Field(max_length=64)
    reported_at: datetime = ts_field(nullable=False)
    status: str = Field(default="open", index=True)  # open / closed
    recovery: str = ""
    lessons: str = ""
    closed_by: str | None = None
    closed_at: datetime | None = ts_field()


class IncidentAction(SQLModel, table=True):
    __tablename__ = "incident_action"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    action: str
    responsible: str = Field(max_length=64)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = ts_field(nullable=False)
