"""Club onboarding's dated steps, run by the shared hourly sweep (tasks/gates/dated_steps.py):
the specialist's review deadline (remind, then escalate to HQ) and the official account's
due date (remind the dealer before it, tell the specialist when it passed).

Each step does what is due by `today` and not yet done, marks it on the checklist row in the
session, and returns its notifications; the sweep queues them in the same transaction. A
sweep missed for days catches up; a second sweep adds nothing (the marks and the keys).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.club_onboarding import (
    official_account_due,
    official_account_remind_on,
    review_deadline,
)
from domain.models import Club
from domain.models_clubs import ClubChecklistItem
from tasks.clubs.notify import club_context, dealer_code, review_items_text
from tasks.gates.dated_steps import StepRun, dated_step
from tasks.outbox import NotificationRequest

OFFICIAL_ACCOUNT = "official_account"


def _key(rows: list[ClubChecklistItem]) -> str:
    """The submissions a message is about (item and round): the same ones are told once."""
    names = ",".join(f"{r.item}.{r.round}" for r in sorted(rows, key=lambda r: r.item))
    return hashlib.sha256(names.encode()).hexdigest()[:16]


@dated_step("club-review-ladder")
def remind_overdue_reviews(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    """Items submitted and not reviewed within `club_review_working_days`: the region's
    specialist is reminded once; `club_review_escalate_after_working_days` later the campaign
    manager hears once. One message per club and level, naming its overdue items."""
    waiting = session.execute(
        select(ClubChecklistItem, Club)
        .join(Club, Club.id == ClubChecklistItem.club_id)
        .where(
            ClubChecklistItem.status == "submitted",
            ClubChecklistItem.submitted_at.is_not(None),
            ClubChecklistItem.review_escalated_at.is_(None),
        )
        .order_by(Club.code, ClubChecklistItem.id)
    ).all()
    by_club: dict[int, tuple[Club, list[tuple[ClubChecklistItem, date, date]]]] = {}
    for row, club in waiting:
        deadline = review_deadline(
            calendar.business_date(row.submitted_at),
            working_days=settings.club_review_working_days,
            escalate_after=settings.club_review_escalate_after_working_days,
            add_working_days=calendar.add_working_days,
        )
        by_club.setdefault(club.id, (club, []))[1].append(
            (row, deadline.due_on, deadline.escalate_on)
        )
    runs = []
    for club, rows in by_club.values():
        context = club_context(club, settings=settings, now=now)
        requests = []
        remind = [(r, due) for r, due, _ in rows if r.review_reminded_at is None and today >= due]
        if remind:
            for r, _ in remind:
                r.review_reminded_at = now
            requests.append(
                NotificationRequest(
                    recipient=f"role:regional_specialist:{club.region_code}",
                    template="club_review_reminder",
                    context={
                        **context,
                        "items": review_items_text([r for r, _ in remind]),
                        "count": len(remind),
                        "due_on": min(due for _, due in remind).isoformat(),
                    },
                    idem_key=f"club:{club.id}:review:reminder:{_key([r for r, _ in remind])}",
                )
            )
        escalate = [(r, due) for r, due, esc in rows if today >= esc]
        if escalate:
            for r, _ in escalate:
                r.review_reminded_at = r.review_reminded_at or now
                r.review_escalated_at = now
            requests.append(
                NotificationRequest(
                    recipient="role:campaign_manager",
                    template="club_review_escalation",
                    context={
                        **context,
                        "items": review_items_text([r for r, _ in escalate]),
                        "count": len(escalate),
                        "due_on": min(due for _, due in escalate).isoformat(),
                    },
                    idem_key=f"club:{club.id}:review:escalation:{_key([r for r, _ in escalate])}",
                )
            )
        if requests:
            runs.append(
                StepRun(
                    "club-review-ladder",
                    f"club:{club.code}",
                    ", ".join(r.template.removeprefix("club_review_") for r in requests),
                    requests,
                )
            )
    session.flush()
    return runs


@dated_step("club-official-account")
def remind_official_accounts(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    """The official account is due `club_official_account_days` after registration: the
    dealer is reminded `club_official_account_remind_days` before, once; when the date passed
    and nothing waits for review or is approved, the region's specialist is told, once."""
    rows = session.execute(
        select(ClubChecklistItem, Club)
        .join(Club, Club.id == ClubChecklistItem.club_id)
        .where(
            ClubChecklistItem.item == OFFICIAL_ACCOUNT,
            ClubChecklistItem.status.in_(("missing", "returned")),
            ClubChecklistItem.due_escalated_at.is_(None),
            Club.registered_at.is_not(None),
        )
        .order_by(Club.code)
    ).all()
    runs = []
    for row, club in rows:
        registered = calendar.business_date(club.registered_at)
        due = official_account_due(registered, days=settings.club_official_account_days)
        remind_on = official_account_remind_on(
            registered,
            days=settings.club_official_account_days,
            remind_before=settings.club_official_account_remind_days,
        )
        context = {**club_context(club, settings=settings, now=now), "due_on": due.isoformat()}
        requests = []
        dealer = dealer_code(session=session, club=club)
        if row.due_reminded_at is None and today >= remind_on and today <= due:
            row.due_reminded_at = now
            if dealer is not None:
                requests.append(
                    NotificationRequest(
                        recipient=f"dealer:{dealer}",
                        template="club_official_account_reminder",
                        context={**context, "days_left": (due - today).days},
                        idem_key=f"club:{club.id}:official-account:reminder",
                    )
                )
        if today > due:
            row.due_reminded_at = row.due_reminded_at or now
            row.due_escalated_at = now
            requests.append(
                NotificationRequest(
                    recipient=f"role:regional_specialist:{club.region_code}",
                    template="club_official_account_late",
                    context={**context, "dealer": dealer or "", "days_late": (today - due).days},
                    idem_key=f"club:{club.id}:official-account:late",
                )
            )
        if requests:
            runs.append(
                StepRun(
                    "club-official-account",
                    f"club:{club.code}",
                    ", ".join(r.template.removeprefix("club_official_account_") for r in requests),
                    requests,
                )
            )
    session.flush()
    return runs
