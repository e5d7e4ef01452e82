"""Who hears about a quarter plan: each club admin gets their club's slots with due dates,
the clubs of the other regions get the host's crossing invitation, late clubs a reminder.

Requests carry idempotency keys that name the business event, so a re-run queues nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.models import Club, Dealer, Person, Role
from domain.models_planning import ClubSlot
from domain.planning import QuarterPlan, SlotStatus
from domain.regions import REGIONS
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_notifications

REGION_ZH = {r.code: r.name_zh for r in REGIONS}


def club_recipients(*, session: Session, club_ids: set[int] | None = None) -> dict[int, list[str]]:
    """Recipient keys per club: its active club admins; the club's dealer if it has none."""
    query = select(Person.username, Person.club_id).where(
        Person.role == Role.club_admin, Person.active.is_(True), Person.club_id.is_not(None)
    )
    out: dict[int, list[str]] = defaultdict(list)
    for username, club_id in session.execute(query).all():
        if club_ids is None or club_id in club_ids:
            out[club_id].append(f"person:{username}")
    dealers = session.execute(
        select(Club.id, Dealer.code).join(Dealer, Dealer.id == Club.dealer_id)
    ).all()
    for club_id, code in dealers:
        if (club_ids is None or club_id in club_ids) and club_id not in out:
            out[club_id].append(f"dealer:{code}")
    return {k: sorted(v) for k, v in out.items()}


@dataclass
class PlanMessages:
    requests: list[NotificationRequest]
    clubs_without_recipient: list[str]


def _link(path: str, settings: Settings | None, now: datetime | None) -> str:
    """The signed portal link of a request, or "" when the caller gave no clock."""
    return portal_link(path, settings=settings, now=now) if settings and now else ""


def compose_plan_messages(
    *,
    session: Session,
    plan: QuarterPlan,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> PlanMessages:
    """One slot request per club admin (the club's three slots and their due dates) and, for
    the clubs outside the host region, one crossing invitation per admin. With `now`, each
    request carries the portal link to the club's plans."""
    recipients = club_recipients(session=session)
    slots_by_club: dict[int, list] = defaultdict(list)
    for slot in plan.slots:
        slots_by_club[slot.club_id].append(slot)
    c = plan.crossing
    crossing = {
        "quarter": str(plan.quarter),
        "host": c.region_zh,
        "theme": c.theme,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
    }
    gathering = (
        {
            "title": plan.gathering.title,
            "starts_on": plan.gathering.starts_on.isoformat(),
            "features": plan.gathering.features,
        }
        if plan.gathering
        else None
    )
    requests, missing = [], []
    q = str(plan.quarter)
    for club_id, slots in slots_by_club.items():
        first = slots[0]
        to = recipients.get(club_id)
        if not to:
            missing.append(first.club_code)
            continue
        context = {
            "quarter": q,
            "club": first.club_name,
            "region": REGION_ZH.get(first.region_code, first.region_code),
            "slots": [
                {"month": f"{s.month:%Y-%m}", "theme": s.theme, "due_on": s.due_on.isoformat()}
                for s in slots
            ],
            "crossing": crossing,
            "gathering": gathering,
            "hosting": first.region_code == c.region,
            "link": _link("/plans", settings, now),
        }
        for recipient in to:
            requests.append(
                NotificationRequest(
                    recipient=recipient,
                    template="planning_slot_request",
                    context=context,
                    idem_key=f"plan:{q}:club:{club_id}:slots:{recipient}",
                )
            )
            if first.region_code != c.region:
                requests.append(
                    NotificationRequest(
                        recipient=recipient,
                        template="planning_crossing_invitation",
                        context={"club": first.club_name, **crossing},
                        idem_key=f"crossing:{q}:invite:club:{club_id}:{recipient}",
                    )
                )
    return PlanMessages(requests, sorted(missing))


def mark_overdue_slots(
    *, session: Session, today: date, now: datetime, settings: Settings | None = None
) -> list[NotificationRequest]:
    """Open slots due by `today` that were not reminded yet: one reminder each, marked in the
    same transaction as the outbox rows the caller queues (a second sweep adds nothing)."""
    rows = session.execute(
        select(ClubSlot.id, ClubSlot.club_id, ClubSlot.month, ClubSlot.theme, ClubSlot.due_on)
        .where(
            ClubSlot.status == SlotStatus.open,
            ClubSlot.due_on <= today,
            ClubSlot.reminded_at.is_(None),
        )
        .order_by(ClubSlot.id)
    ).all()
    if not rows:
        return []
    recipients = club_recipients(session=session, club_ids={r.club_id for r in rows})
    names = dict(
        session.execute(
            select(Club.id, Club.name).where(Club.id.in_({r.club_id for r in rows}))
        ).all()
    )
    requests = []
    for r in rows:
        for recipient in recipients.get(r.club_id, []):
            requests.append(
                NotificationRequest(
                    recipient=recipient,
                    template="planning_slot_reminder",
                    context={
                        "club": names[r.club_id],
                        "month": f"{r.month:%Y-%m}",
                        "theme": r.theme,
                        "due_on": r.due_on.isoformat(),
                        "overdue": r.due_on < today,
                        "link": _link(f"/plans/new?month={r.month:%Y-%m}", settings, now),
                    },
                    idem_key=f"plan:slot:{r.id}:reminder:{recipient}",
                )
            )
    session.execute(
        update(ClubSlot).where(ClubSlot.id.in_([r.id for r in rows])).values(reminded_at=now)
    )
    return requests


def remind_missing_monthly_plans(*, session: Session, now: datetime, settings: Settings) -> int:
    """Queue the reminders and mark the slots in one transaction."""
    requests = mark_overdue_slots(
        session=session, today=calendar.business_date(now), now=now, settings=settings
    )
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return len(requests)


# ---------------------------------------------------------------- tasks

compose_plan_messages_task = data_task(compose_plan_messages)
remind_missing_monthly_plans_task = data_task(remind_missing_monthly_plans, retries=2)
