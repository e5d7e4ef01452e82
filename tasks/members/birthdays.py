"""Birthday greetings with the birthday-month benefit and the tier's birthday points, and
the reminder a week before: each once per member per year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import extract, or_, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.members import TIER_ZH, MemberStatus, birthday_in, recipient
from domain.models import Club, Member, MemberTier
from tasks.common import data_task
from tasks.members.ledger import grant_points, recompute_members
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class BirthdayReport:
    day: date
    greeted: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    points_granted: int = 0  # ledger rows written this run (0 on a second run)
    queued: int = 0


@dataclass(frozen=True)
class Celebrant:
    member_id: int
    member_no: str
    name: str
    club: str | None
    tier: MemberTier
    celebrates_on: date


def _celebrants(*, session: Session, months: set[int], year: int) -> list[Celebrant]:
    rows = session.execute(
        select(Member.id, Member.member_no, Member.name, Member.birthday, Club.name, Member.tier)
        .outerjoin(Club, Club.id == Member.club_id)
        .where(Member.status == MemberStatus.active)
        .where(or_(*(extract("month", Member.birthday) == m for m in sorted(months))))
        .order_by(Member.member_no)
    ).all()
    return [
        Celebrant(mid, no, name, club, MemberTier(tier), birthday_in(born, year))
        for mid, no, name, born, club, tier in rows
    ]


def members_with_birthday(*, session: Session, day: date) -> list[tuple[str, str, str | None]]:
    """(member number, name, club name) of the active members celebrating on `day`;
    29 February birthdays are celebrated on 28 February in a non-leap year."""
    return [
        (c.member_no, c.name, c.club)
        for c in _celebrants(session=session, months={day.month}, year=day.year)
        if c.celebrates_on == day
    ]


def _upcoming(*, session: Session, day: date, lead_days: int) -> list[Celebrant]:
    """Members whose birthday falls within the next `lead_days` days (not today): a missed
    daily run still reminds them, and the idem key keeps it once a year."""
    last = day + timedelta(days=lead_days)
    found = []
    for year in sorted({day.year, last.year}):
        months = {d.month for d in (day, last)}
        for c in _celebrants(session=session, months=months, year=year):
            if day < c.celebrates_on <= last:
                found.append(c)
    return found


def queue_birthday_greetings(
    *, session: Session, day: date, now: datetime, settings: Settings
) -> BirthdayReport:
    report = BirthdayReport(day=day)
    requests = []
    celebrants = [
        c
        for c in _celebrants(session=session, months={day.month}, year=day.year)
        if c.celebrates_on == day
    ]
    grants = []
    for c in celebrants:
        report.greeted.append(c.member_no)
        points = int(settings.birthday_points_by_tier.get(c.tier.value, 0))
        if points > 0:
            grants.append(
                {
                    "member_id": c.member_id,
                    "amount": points,
                    "reason": f"birthday {day.year} ({c.tier.value})",
                    # Once per member and year, whatever day the greeting goes out.
                    "idem_key": f"birthday-points:{c.member_no}:{day.year}",
                    "occurred_at": now,
                }
            )
        requests.append(
            NotificationRequest(
                recipient=recipient(c.member_no),
                template="member_birthday",
                context={
                    "name": c.name,
                    "club": c.club or "羽林车友俱乐部",
                    "benefit": settings.birthday_benefit,
                    "month": day.month,
                    "tier": TIER_ZH[c.tier],
                    "points": points,
                },
                # Once per member per year, whichever day the greeting actually goes out.
                idem_key=f"member:{c.member_no}:birthday:{day.year}",
            )
        )
    for c in _upcoming(session=session, day=day, lead_days=settings.birthday_reminder_days):
        report.reminded.append(c.member_no)
        points = int(settings.birthday_points_by_tier.get(c.tier.value, 0))
        requests.append(
            NotificationRequest(
                recipient=recipient(c.member_no),
                template="member_birthday_reminder",
                context={
                    "name": c.name,
                    "club": c.club or "羽林车友俱乐部",
                    "day": f"{c.celebrates_on.month}月{c.celebrates_on.day}日",
                    "tier": TIER_ZH[c.tier],
                    "points": points,
                    "benefit": settings.birthday_benefit,
                },
                idem_key=f"member:{c.member_no}:birthday-reminder:{c.celebrates_on.year}",
            )
        )
    if grants:
        new = grant_points(session=session, rows=grants, settings=settings)
        report.points_granted = len(new)
        if new:
            recompute_members(
                session=session,
                member_ids=[g["member_id"] for g in grants],
                now=now,
                settings=settings,
            )
    if requests:
        report.queued = queue_notifications(
            session=session, requests=requests, now=now, settings=settings
        ).queued
    return report


queue_birthday_greetings_task = data_task(
    queue_birthday_greetings, retries=2, retry_delay_seconds=5
)
