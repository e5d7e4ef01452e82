"""Tables of a campaign from build to live: the platform resource slots the agency applied
for and was granted, the dealers' training attendance, and the live KPI snapshots."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.models import ts_field


class CampaignSlot(SQLModel, table=True):
    """A platform resource slot (paid or free) applied for at the platform's key date."""

    __tablename__ = "campaign_slot"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str
    kind: str  # paid / free
    key_date: date
    applied: bool = True
    granted: bool = False
    granted_qty: int = 0
    cost: float = 0.0
    recorded_by: str
    recorded_at: datetime = ts_field(nullable=False, default_now=True)


class CampaignTrainingAttendance(SQLModel, table=True):
    """Whether a dealer attended the campaign's training (the last word counts)."""

    __tablename__ = "campaign_training_attendance"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "dealer_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    dealer_code: str = Field(max_length=32)
    attended: bool = True
    recorded_by: str
    recorded_at: datetime = ts_field(nullable=False, default_now=True)


class CampaignKpiSnapshot(SQLModel, table=True):
    """A KPI's figure to date (cumulative since L) on one business day, from the agency's
    daily or weekly report (CSV or its API); the first figure for a day counts."""

    __tablename__ = "campaign_kpi_snapshot"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "kpi", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    kpi: str
    day: date
    value: float
    period: str = "daily"  # daily / weekly
    source: str  # csv:<file> / api:<block>
    recorded_at: datetime = ts_field(nullable=False, default_now=True)
