"""What the lead area puts on a person's "my tasks": for dealer staff, each lead waiting for
their dealer's acceptance, due at its deadline, and each accepted lead with no follow-up
recorded yet; for call agents (and the supervisor) the weekly revisits waiting for a result
(discovered by tasks.gates.discovery)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.calendar import BUSINESS_TZ
from domain.gates import InboxItem
from domain.models import Dealer, Lead, Person, Role
from domain.models_deals import LeadFollowUp
from domain.models_leads import LeadHandoff
from tasks.gates.inbox import inbox_source


def open_handoffs(*, session: Session, dealer_id: int) -> list[tuple[LeadHandoff, Lead]]:
    """The dealer's rounds not yet accepted, returned or bounced (oldest deadline first)."""
    rows = session.execute(
        select(LeadHandoff, Lead)
        .join(Lead, Lead.id == LeadHandoff.lead_id)
        .where(
            LeadHandoff.dealer_id == dealer_id,
            LeadHandoff.accepted_at.is_(None),
            LeadHandoff.bounced_at.is_(None),
        )
        .order_by(LeadHandoff.due_at, LeadHandoff.lead_id)
    ).all()
    return [(h, lead) for h, lead in rows]


@inbox_source("leads-to-accept")
def leads_to_accept(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    if person.role != Role.dealer or person.dealer_id is None:
        return []
    dealer = session.get(Dealer, person.dealer_id)
    items = []
    for handoff, lead in open_handoffs(session=session, dealer_id=person.dealer_id):
        due_on = handoff.due_at.astimezone(BUSINESS_TZ).date() if handoff.due_at else None
        items.append(
            InboxItem(
                kind="lead",
                subject=f"lead:{lead.id}",
                title=f"待确认线索 #{lead.id} · {lead.model or '—'} · {lead.city}",
                due_on=due_on,
                overdue=due_on is not None and due_on < today,
                command=f"clubflow leads accept {lead.id} --dealer {dealer.code}",
                link=f"/leads/{lead.id}",
            )
        )
    return items


@inbox_source("leads-to-follow-up")
def leads_to_follow_up(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """Accepted by the person's dealer, still open, and no step recorded: the customer waits
    for the first contact."""
    if person.role != Role.dealer or person.dealer_id is None:
        return []
    started = select(LeadFollowUp.lead_id).where(LeadFollowUp.lead_id == Lead.id).exists()
    rows = session.execute(
        select(Lead, LeadHandoff.accepted_at)
        .join(LeadHandoff, LeadHandoff.lead_id == Lead.id)
        .where(
            LeadHandoff.dealer_id == person.dealer_id,
            LeadHandoff.accepted_at.is_not(None),
            Lead.converted_at.is_(None),
            Lead.lost_at.is_(None),
            ~started,
        )
        .order_by(LeadHandoff.accepted_at, Lead.id)
    ).all()
    return [
        InboxItem(
            kind="lead",
            subject=f"lead:{lead.id}",
            title=f"待跟进线索 #{lead.id} · {lead.model or '—'} · {lead.city}"
            f"（{accepted_at.astimezone(BUSINESS_TZ):%m-%d} 接收）",
            due_on=None,
            overdue=False,
            command=f"clubflow leads follow-up {lead.id} contacted --actor {person.username}",
            link=f"/leads/{lead.id}",
        )
        for lead, accepted_at in rows
    ]


@inbox_source("leads-revisits-waiting")
def revisits_waiting_for_a_result(
    *, session: Session, person: Person, today: date
) -> list[InboxItem]:
    """A call agent's revisits without a result yet (the supervisor's: those of leads
    without an agent), one item per week, due before the next Monday's list."""
    from tasks.leads.revisit import waiting_revisits

    if person.role == Role.call_agent:
        waiting = waiting_revisits(session=session, agent_id=person.id)
    elif person.role == Role.call_supervisor:
        waiting = waiting_revisits(session=session, agent_id=None)
    else:
        return []
    weeks: dict[date, list[int]] = {}
    for revisit_id, _lead_id, week in waiting:
        weeks.setdefault(week, []).append(revisit_id)
    items = []
    for week, ids in sorted(weeks.items()):
        due_on = week + timedelta(days=6)
        items.append(
            InboxItem(
                kind="revisit",
                subject=f"revisits:{week.isoformat()}",
                title=f"回访待反馈结果：{len(ids)} 条（{week.isoformat()} 周）",
                due_on=due_on,
                overdue=due_on < today,
                command=(
                    f"clubflow leads revisit-result {ids[0]} RESULT --actor {person.username}"
                ),
                link=f"/revisits?week_of={week.isoformat()}",
            )
        )
    return items
