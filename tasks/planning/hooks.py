"""What the planning area puts on "my tasks": for a club admin each open monthly slot of their
club, due at its due date, linked to the plan form; for a dealer's staff and its club's admin
each monthly return not answered yet, linked to /returns (discovered by
tasks.gates.discovery)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from domain.gates import InboxItem
from domain.models import Club, Dealer, Person, Role
from domain.models_planning import ClubSlot, DealerReturn
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


def _dealer_of(session: Session, person: Person) -> int | None:
    """The dealer whose monthly return `person` answers: their own, or their club's."""
    if person.role == Role.dealer:
        return person.dealer_id
    if person.role == Role.club_admin and person.club_id is not None:
        club = session.get(Club, person.club_id)
        return club.dealer_id if club else None
    return None


@inbox_source("planning-monthly-returns")
def monthly_returns_due(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """Each monthly return of the person's dealer that is not answered yet."""
    dealer_id = _dealer_of(session, person)
    if dealer_id is None:
        return []
    dealer = session.get(Dealer, dealer_id)
    rows = session.execute(
        select(DealerReturn)
        .where(DealerReturn.dealer_id == dealer_id, DealerReturn.answered_at.is_(None))
        .order_by(DealerReturn.month)
    ).scalars()
    return [
        InboxItem(
            kind="return",
            subject=f"return:{dealer.code}:{r.month:%Y-%m}",
            title=f"月度回执待提交：{r.month:%Y-%m} 会员报告与问卷",
            due_on=r.due_on,
            overdue=r.due_on < today,
            command=(
                f"clubflow planning return {dealer.code} --month {r.month:%Y-%m} "
                f"--as {person.username} --sales N --referral-sales N --service-revenue X "
                "--member-service-revenue X"
            ),
            link=f"/returns?month={r.month:%Y-%m}",
        )
        for r in rows
    ]
