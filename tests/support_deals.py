"""Leads a dealer accepted, as the hand-off leaves them, for the deal tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from domain.calendar import business_date
from domain.models import Dealer, Lead, LeadStatus, Person
from domain.models_leads import LeadHandoff

SH = ZoneInfo("Asia/Shanghai")
ARRIVED = datetime(2026, 10, 12, 9, 0, tzinfo=SH)  # a Monday
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=SH)


def seed_lead(
    session: Session,
    n: int,
    *,
    dealer: str | None = "CH001",
    accepted: bool = True,
    valid: bool = True,
    source: str = "汽车之家",
    agent: str = "agent1",
    arrived: datetime = ARRIVED,
    outlet: str | None = None,
    city: str | None = None,
) -> int:
    """A lead called valid an hour after it arrived, handed to `dealer` then and (when
    `accepted`) accepted two hours later."""
    found = session.execute(select(Dealer).where(Dealer.code == dealer)).scalar_one_or_none()
    agent_id = session.execute(select(Person.id).where(Person.username == agent)).scalar()
    closed = arrived + timedelta(hours=1)
    accepted_at = arrived + timedelta(hours=3) if accepted and found else None
    lead = Lead(
        phone=f"+86138000{n:05d}",
        name=f"客户{n}",
        model="越野SUV",
        city=city or (found.city if found else "成都"),
        region_code=found.region_code if found else "chengdu",
        source=source,
        sources=[source],
        arrived_at=arrived,
        business_day=business_date(arrived),
        status=LeadStatus.valid if valid else LeadStatus.invalid,
        outcome="interested" if valid else "invalid_number",
        agent_id=agent_id,
        closed_at=closed,
        dealer_id=found.id if found and valid else None,
        outlet_code=outlet if found and valid else None,
        handed_off_at=closed if found and valid else None,
        accepted_at=accepted_at,
        handoff_round=1 if found and valid else 0,
    )
    session.add(lead)
    session.flush()
    if found and valid:
        session.add(
            LeadHandoff(
                lead_id=lead.id,
                round=1,
                dealer_id=found.id,
                recipient=f"dealer:{found.code}",
                handed_at=closed,
                due_at=closed + timedelta(days=1),
                accepted_at=accepted_at,
                accepted_by=found.code if accepted_at else None,
            )
        )
        session.flush()
    return lead.id
