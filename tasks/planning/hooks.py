"""What the planning area puts on a club admin's "my tasks": each open monthly slot of their
club, due at its due date, linked to the plan form (discovered by tasks.gates.discovery)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from domain.gates import InboxItem
from domain.models import Club, Person, Role
from domain.models_planning import ClubSlot
from domain.planning import SlotStatus
from tasks.gates.inbox import inbox_source


def open_slots(*, session: Session, club_id: int) -> list[ClubSlot]:
    """The club's slots still waiting for their monthly plan, earliest due first."""
    return list(
        session.execute(
            select(ClubSlot)
            .where(ClubSlot.club_id == club_id, ClubSlot.status == SlotStatus.open)
            .order_by(ClubSlot.due_on, ClubSlot.month)
        ).scalars()
    )


@inbox_source("planning-monthly-plans")
def monthly_plans_due(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    if person.role != Role.club_admin or person.club_id is None:
        return []
    club = session.get(Club, person.club_id)
    return [
        InboxItem(
            kind="plan",
            subject=f"slot:{club.code}:{slot.month:%Y-%m}",
            title=f"提报 {slot.month:%Y-%m} 月度活动计划 · 主题「{slot.theme}」",
            due_on=slot.due_on,
            overdue=slot.due_on < today,
            command=f"clubflow plan submit {club.code} plan.json --as {person.username}",
            link=f"/plans/new?month={slot.month:%Y-%m}",
        )
        for slot in open_slots(session=session, club_id=person.club_id)
    ]
