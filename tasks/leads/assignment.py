"""Assignment of open, unassigned leads to call agents on duty, and the supervisor's reassign.

On duty follows the agent's own roster (a day off recorded by the supervisor), not the office
calendar; the day is the service day (after the service closes, the next day's agents)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.leads_plan import AgentSlot, ServiceHours, assign_leads, service_day, service_day_bounds
from domain.models import Lead, LeadStatus, Person, Role
from tasks.common import chunks, data_task, run_logger
from tasks.leads.common import LeadsError
from tasks.leads.roster import agents_off, service_hours


@dataclass
class AssignmentResult:
    assigned: int = 0
    unassigned: int = 0  # beyond everyone's capacity today
    by_agent: dict[str, int] = field(default_factory=dict)


def agents_on_duty(*, session: Session, now: datetime, hours: ServiceHours) -> list[AgentSlot]:
    """Active agents in rotation with capacity and not off on the service day of `now`, their
    open load and what is left of their capacity that day."""
    day = service_day(now, hours)
    off = agents_off(session=session, day=day)
    agents = session.execute(
        select(Person.id, Person.username, Person.daily_capacity)
        .where(Person.role == Role.call_agent)
        .where(Person.active.is_(True))
        .where(Person.in_rotation.is_(True))
        .where(Person.daily_capacity > 0)
    ).all()
    agents = [row for row in agents if row[0] not in off]
    if not agents:
        return []
    open_load = dict(
        session.execute(
            select(Lead.agent_id, func.count())
            .where(Lead.status == LeadStatus.open)
            .where(Lead.agent_id.is_not(None))
            .group_by(Lead.agent_id)
        ).all()
    )
    start, end = service_day_bounds(day, hours)
    today = dict(
        session.execute(
            select(Lead.agent_id, func.count())
            .where(Lead.assigned_at >= start)
            .where(Lead.assigned_at < end)
            .group_by(Lead.agent_id)
        ).all()
    )
    return [
        AgentSlot(
            username=username,
            agent_id=agent_id,
            open_load=open_load.get(agent_id, 0),
            remaining_today=max(capacity - today.get(agent_id, 0), 0),
        )
        for agent_id, username, capacity in agents
    ]


def assign_open_leads(*, session: Session, now: datetime, settings: Settings) -> AssignmentResult:
    """Give every open, unassigned lead (oldest call day first) to the least-loaded agent."""
    lead_ids = list(
        session.execute(
            select(Lead.id)
            .where(Lead.status == LeadStatus.open)
            .where(Lead.agent_id.is_(None))
            .order_by(Lead.call_day, Lead.arrived_at, Lead.id)
        ).scalars()
    )
    hours = service_hours(session=session, settings=settings, start=business_date(now))
    slots = agents_on_duty(session=session, now=now, hours=hours)
    plan = assign_leads(lead_ids, slots)
    names = {slot.agent_id: slot.username for slot in slots}
    table = Lead.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("lead_id"))
        .where(table.c.agent_id.is_(None))  # a concurrent reassign wins
        .values(agent_id=bindparam("agent"), assigned_at=now)
    )
    rows = [{"lead_id": lead_id, "agent": agent} for lead_id, agent in plan.items()]
    for batch in chunks(rows):
        session.execute(statement, list(batch), execution_options={"synchronize_session": False})
    result = AssignmentResult(assigned=len(plan), unassigned=len(lead_ids) - len(plan))
    for agent in plan.values():
        result.by_agent[names[agent]] = result.by_agent.get(names[agent], 0) + 1
    log = run_logger("leads")
    log.info("assigned %s leads to %s agents", result.assigned, len(result.by_agent))
    if result.unassigned:
        log.warning("%s leads exceed today's agent capacity and wait", result.unassigned)
    return result


def reassign_leads(
    *, session: Session, lead_ids: list[int], to_agent: str, by: str, now: datetime
) -> int:
    """The supervisor moves open leads to another agent; they go on that agent's next list."""
    supervisor = session.execute(select(Person).where(Person.username == by)).scalar_one_or_none()
    if supervisor is None or supervisor.role != Role.call_supervisor:
        raise LeadsError(f"{by!r} is not a call supervisor: only the supervisor reassigns leads")
    agent = session.execute(select(Person).where(Person.username == to_agent)).scalar_one_or_none()
    if agent is None or agent.role != Role.call_agent or not agent.active:
        raise LeadsError(f"{to_agent!r} is not an active call agent")
    leads = session.execute(select(Lead.id, Lead.status).where(Lead.id.in_(lead_ids))).all()
    found = {lead_id: status for lead_id, status in leads}
    missing = sorted(set(lead_ids) - set(found))
    if missing:
        raise LeadsError(f"unknown lead(s) {missing[:10]}")
    closed = sorted(i for i, status in found.items() if status != LeadStatus.open)
    if closed:
        raise LeadsError(f"lead(s) {closed[:10]} are closed and cannot be reassigned")
    session.execute(
        update(Lead)
        .where(Lead.id.in_(lead_ids))
        .values(agent_id=agent.id, assigned_at=now, listed_at=None)
    )
    return len(lead_ids)


# Assign the open, unassigned leads to the agents on duty (deterministic, balanced).
assign_leads_task = data_task(
    assign_open_leads, name="assign-leads", retries=1, retry_delay_seconds=5
)
