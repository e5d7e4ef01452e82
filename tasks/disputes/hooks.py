"""What disputes and incidents put on "my tasks": HQ sees each open dispute with the step it
owes (受理 acknowledge, 结案 resolve) and its deadline; the handlers see each open incident,
a regional specialist only their region's."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from domain import calendar
from domain.disputes import HANDLE_ROLES, HQ_ROLES
from domain.gates import InboxItem
from domain.models import Person
from domain.models_disputes import Dispute, Incident
from tasks.gates.inbox import inbox_source

# The step an open dispute owes: its word on "my tasks" and the command that takes it.
STEP = {
    "filed": ("受理", "clubflow disputes acknowledge {code} --as {user}"),
    "mediating": ("结案", "clubflow disputes settle {code} --agreement ... --as {user}"),
}


@inbox_source("disputes-open")
def disputes_to_handle(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    if person.role not in HQ_ROLES:
        return []
    rows = session.execute(
        select(Dispute).where(Dispute.status.in_(tuple(STEP))).order_by(Dispute.id)
    ).scalars()
    items = []
    for dispute in rows:
        word, command = STEP[dispute.status]
        due = dispute.ack_due_at if dispute.status == "filed" else dispute.resolve_due_at
        due_on = calendar.business_date(due) if due is not None else None
        items.append(
            InboxItem(
                kind="dispute",
                subject=f"dispute:{dispute.code}",
                title=f"纠纷待{word} · {dispute.summary}",
                due_on=due_on,
                overdue=due_on is not None and due_on < today,
                command=command.format(code=dispute.code, user=person.username),
                link=f"/disputes/{dispute.code}",
            )
        )
    return items


@inbox_source("incidents-open")
def incidents_to_handle(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    if person.role not in HANDLE_ROLES:
        return []
    query = select(Incident).where(Incident.status == "open").order_by(Incident.id)
    if person.role == "regional_specialist":
        query = query.where(Incident.region_code == person.region_code)
    items = []
    for incident in session.execute(query).scalars():
        reported_on = calendar.business_date(incident.reported_at)  # handled at once: due then
        items.append(
            InboxItem(
                kind="incident",
                subject=f"incident:{incident.code}",
                title=f"突发事件处理中 · {incident.what}",
                due_on=reported_on,
                overdue=reported_on < today,
                command=f"clubflow incidents act {incident.code} --as {person.username} ...",
                link=f"/incidents/{incident.code}",
            )
        )
    return items
