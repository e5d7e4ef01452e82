"""Tables of club onboarding (收编登记) and the monthly club rating (issue 16)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import json_field, ts_field


class ClubOfficer(SQLModel, table=True):
    """A club's officer: 会长, 军师 or 长史, each a person (with a phone, masked in display)."""

    __tablename__ = "club_officer"
    __table_args__ = (sa.UniqueConstraint("club_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    club_id: int = Field(foreign_key="club.id", index=True)
    title: str = Field(max_length=16)
    person_id: int = Field(foreign_key="person.id")


class ClubChecklistItem(SQLModel, table=True):
    """One qualification item of a club: its evidence, the review round and the decision."""

    __tablename__ = "club_checklist_item"
    __table_args__ = (sa.UniqueConstraint("club_id", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    club_id: int = Field(foreign_key="club.id", index=True)
    item: str = Field(max_length=32)
    required: bool = True
    # missing -> submitted -> approved | returned (-> submitted again)
    status: str = Field(default="missing", max_length=16)
    evidence: str = ""
    round: int = 0
    submitted_by: str | None = None
    submitted_at: datetime | None = ts_field()
    decided_by: str | None = None
    decided_at: datetime | None = ts_field()
    return_reason: str = ""
    # The sweep's marks: the review reminder and escalation of the current submission
    # (cleared when it is submitted again), and the official account's due-date reminder and
    # lateness escalation (once per club).
    review_reminded_at: datetime | None = ts_field()
    review_escalated_at: datetime | None = ts_field()
    due_reminded_at: datetime | None = ts_field()
    due_escalated_at: datetime | None = ts_field()


class ClubScore(SQLModel, table=True):
    """A club's monthly score and its places: one row per club and month."""

    __tablename__ = "club_score"
    __table_args__ = (sa.UniqueConstraint("club_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    club_id: int = Field(foreign_key="club.id", index=True)
    month: date = Field(index=True)  # first day of the month scored
    region_code: str = Field(max_length=32)
    score: float = 0.0
    figures: dict[str, Any] = json_field(dict)
    region_place: int = 0
    national_place: int = 0
    created_at: datetime = ts_field(nullable=False, default_now=True)


class ClubAward(SQLModel, table=True):
    """A yearly award: the year's top clubs nationally (scope "national") and per region."""

    __tablename__ = "club_award"
    __table_args__ = (sa.UniqueConstraint("year", "scope", "place"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    scope: str = Field(max_length=32)  # "national" or a region code
    place: int
    club_id: int = Field(foreign_key="club.id")
    score: float = 0.0
    created_at: datetime = ts_field(nullable=False, default_now=True)
