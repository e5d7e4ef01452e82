"""The follow-up of an accepted lead (domain.deals): every step with its date, recorded by
the dealer's staff, HQ, or the dealer system's feed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.deals import DealStage
from domain.models import enum_field, ts_field


class LeadFollowUp(SQLModel, table=True):
    """One step of a deal. A feed record is stored once: (source, external_id) is unique, so
    a re-import adds nothing (steps recorded by a person have no external id)."""

    __table_args__ = (sa.UniqueConstraint("source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    stage: DealStage = enum_field(DealStage)
    at: datetime = ts_field(nullable=False)
    by: str = Field(max_length=64)  # the username, or dealer:<code> for the feed
    source: str = Field(default="person", max_length=16)  # person / feed
    external_id: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=32)  # lost: a domain.deals code
    note: str = ""
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    recorded_at: datetime = ts_field(nullable=False)
