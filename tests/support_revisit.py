"""Seeding and driving the weekly revisit in tests: leads left unconverted in the past, one
week's list, one result, each in its own transaction as the flow and the CLI run them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Lead, LeadStatus, Person
from domain.models_leads import LeadRevisit

SH = ZoneInfo("Asia/Shanghai")


def person_ids(db_url: str) -> dict[str, int]:
    with session_scope(db_url) as session:
        return dict(session.execute(select(Person.username, Person.id)).all())


def seed_lead(
    db_url: str,
    n: int,
    *,
    agent: str | None,
    valid_since: datetime | None = None,
    arrived_at: datetime | None = None,
    converted_at: datetime | None = None,
    outcome: str = "interested",
) -> int:
    """A 成都 lead of agent `agent`: valid and `outcome` since `valid_since`, or (without it)
    still open since `arrived_at` (waiting for an appointment)."""
    arrived = arrived_at or valid_since
    with session_scope(db_url) as session:
        agent_id = (
            session.execute(select(Person.id).where(Person.username == agent)).scalar_one()
            if agent
            else None
        )
        lead = Lead(
            phone=f"+861390000{n:04d}",
            name=f"回访客户{n}",
            model="越野SUV",
            city="成都",
            region_code="chengdu",
            source="官网",
            sources=["官网"],
            arrived_at=arrived,
            business_day=arrived.astimezone(SH).date(),
            agent_id=agent_id,
            status=LeadStatus.valid if valid_since else LeadStatus.open,
            outcome=outcome if valid_since else "awaiting_appointment",
            closed_at=valid_since,
            converted_at=converted_at,
        )
        session.add(lead)
        session.flush()
        return lead.id


def list_week(db_url: str, now: datetime):
    from tasks.leads.revisit import list_revisits

    with session_scope(db_url) as session:
        return list_revisits(session=session, now=now, settings=get_settings(), channels=None)


def record(db_url: str, revisit_id: int, result: str, actor: str, now: datetime, note: str = ""):
    from tasks.leads.revisit import record_revisit_result

    with session_scope(db_url) as session:
        return record_revisit_result(
            session=session,
            revisit_id=revisit_id,
            result=result,
            note=note,
            actor=actor,
            now=now,
            settings=get_settings(),
        )


def revisits_of(db_url: str, week: date) -> dict[int, int]:
    """Lead id → revisit id of the week's list."""
    with session_scope(db_url) as session:
        return dict(
            session.execute(
                select(LeadRevisit.lead_id, LeadRevisit.id).where(LeadRevisit.week_of == week)
            ).all()
        )
