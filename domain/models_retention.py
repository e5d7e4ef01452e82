"""Tables of retention: members' contact consent, lost-member call-backs and their calls,
and the monthly offers to sleeping members.

Natural keys carry idempotency: one consent row per (member, channel, purpose), one call-back
per (member, lost episode), one call per (call-back, call number), one offer per (member, month).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class MemberConsent(SQLModel, table=True):
    """The member's current answer for one channel and purpose, and who recorded it when."""

    __tablename__ = "member_consent"
    __table_args__ = (sa.UniqueConstraint("member_id", "channel", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    channel: str = Field(max_length=16)  # sms / phone
    purpose: str = Field(max_length=16)  # service / marketing
    allowed: bool
    changed_at: datetime = ts_field(nullable=False)
    changed_by: str  # member:<no> / <username> / registration


class MemberConsentChange(SQLModel, table=True):
    """Every change of a consent (the history behind MemberConsent)."""

    __tablename__ = "member_consent_change"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    channel: str = Field(max_length=16)
    purpose: str = Field(max_length=16)
    allowed: bool
    changed_at: datetime = ts_field(nullable=False)
    changed_by: str


class MemberCallback(SQLModel, table=True):
    """A lost member to call back (one per lost episode), on the leads' call rules."""

    __tablename__ = "member_callback"
    __table_args__ = (sa.UniqueConstraint("member_id", "lost_since"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    club_id: int | None = Field(default=None, foreign_key="club.id")
    lost_since: date
    agent_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    status: str = Field(default="open", index=True, max_length=16)  # open / valid / invalid
    resolution: str | None = None
    next_call_no: int = 1
    next_call_due: date | None = None
    call_day: date
    third_call_due: date
    appointment_at: datetime | None = ts_field()
    churn_reason: str | None = Field(default=None, max_length=32)
    created_at: datetime = ts_field(nullable=False)
    closed_at: datetime | None = ts_field()
    # Set when the member interacts again after the call-back was opened.
    reactivated_on: date | None = Field(default=None, index=True)


class MemberCallbackCall(SQLModel, table=True):
    """One call of a call-back: the outcome in the leads' vocabulary, who called, when."""

    __tablename__ = "member_callback_call"
    __table_args__ = (sa.UniqueConstraint("callback_id", "call_no"),)

    id: int | None = Field(default=None, primary_key=True)
    callback_id: int = Field(foreign_key="member_callback.id", index=True)
    call_no: int
    outcome: str = Field(max_length=32)
    churn_reason: str | None = Field(default=None, max_length=32)
    note: str = ""
    called_at: datetime = ts_field(nullable=False)
    called_by: str


class MemberOffer(SQLModel, table=True):
    """A monthly offer to a sleeping member (one per member and month)."""

    __tablename__ = "member_offer"
    __table_args__ = (sa.UniqueConstraint("member_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    month: date  # the first day of the month
    offered_at: datetime = ts_field(nullable=False)
