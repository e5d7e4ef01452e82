"""Points expiry in the store: warn a month ahead, then expire as negative ledger rows.

An expiry row is keyed `expiry:<grant id>`: the rest of one grant expires once, ever.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import and_, or_, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ, business_date
from domain.members import recipient, same_day_in_year, zh_date
from domain.models import Member, PointsEntry
from domain.points import LedgerLine, expiries_due, expiring_within, expiry_date
from tasks.common import chunks, data_task, run_logger
from tasks.members.ledger import grant_points, recompute_members
from tasks.outbox import NotificationRequest, queue_notifications

# How far back a monthly run looks for grants that fell due (a few missed runs are caught up).
LOOKBACK = timedelta(days=400)


@dataclass
class ExpiryReport:
    members: list[str] = field(default_factory=list)
    points: int = 0
    rows: int = 0


@dataclass
class WarningReport:
    members: list[str] = field(default_factory=list)
    points: int = 0


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)


def members_with_grants_due(*, session: Session, start: date, end: date, years: int) -> list[int]:
    """Members holding a grant that expires between `start` and `end` (inclusive).

    Grants without a stored expiry day count from their business date; the earned-date range
    is widened by a day each side (29 February) and the exact rule decides later.
    """
    earned_from = _midnight(same_day_in_year(start, start.year - years) - timedelta(days=1))
    earned_to = _midnight(same_day_in_year(end, end.year - years) + timedelta(days=2))
    query = (
        select(PointsEntry.member_id)
        .where(PointsEntry.amount > 0)
        .where(
            or_(
                PointsEntry.expires_on.between(start, end),
                and_(
                    PointsEntry.expires_on.is_(None),
                    PointsEntry.occurred_at >= earned_from,
                    PointsEntry.occurred_at < earned_to,
                ),
            )
        )
        .distinct()
    )
    return sorted(session.execute(query).scalars())


def ledgers(*, session: Session, member_ids: list[int], years: int) -> dict[int, list[LedgerLine]]:
    out: dict[int, list[LedgerLine]] = defaultdict(list)
    for batch in chunks(member_ids):
        rows = session.execute(
            select(
                PointsEntry.id,
                PointsEntry.member_id,
                PointsEntry.amount,
                PointsEntry.expires_on,
                PointsEntry.occurred_at,
            ).where(PointsEntry.member_id.in_(batch))
        ).all()
        for entry_id, member_id, amount, expires_on, occurred_at in rows:
            if amount > 0 and expires_on is None:
                expires_on = expiry_date(business_date(occurred_at), years)
            out[member_id].append(LedgerLine(entry_id, amount, expires_on if amount > 0 else None))
    return out


def _members(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    out = {}
    for batch in chunks(ids):
        rows = session.execute(
            select(Member.id, Member.member_no, Member.name).where(Member.id.in_(batch))
        ).all()
        out.update({i: (no, name) for i, no, name in rows})
    return out


def expire_points(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> ExpiryReport:
    """Write the expiry rows due on `as_of`, recompute balances and ranks (tiers stay until the
    yearly review) and tell each member how much expired, in one transaction."""
    years = settings.points_expire_years
    candidates = members_with_grants_due(
        session=session, start=as_of - LOOKBACK, end=as_of, years=years
    )
    lines = ledgers(session=session, member_ids=candidates, years=years)
    rows = []
    for member_id, member_lines in lines.items():
        for expiry in expiries_due(member_lines, as_of):
            rows.append(
                {
                    "member_id": member_id,
                    "amount": expiry.amount,
                    "reason": "expiry",
                    "idem_key": f"expiry:{expiry.entry_id}",
                    "occurred_at": now,
                }
            )
    new_ids = set(grant_points(session=session, rows=rows, settings=settings))
    report = ExpiryReport(rows=len(new_ids))
    expired: dict[int, int] = defaultdict(int)
    for batch in chunks(sorted(new_ids)):
        for member_id, amount in session.execute(
            select(PointsEntry.member_id, PointsEntry.amount).where(PointsEntry.id.in_(batch))
        ).all():
            expired[member_id] -= amount
    if not expired:
        return report
    changes = recompute_members(
        session=session, member_ids=list(expired), now=now, notify=False, settings=settings
    )
    balances = {c.member_id: c.points for c in changes}
    people = _members(session, list(expired))
    requests = []
    for member_id, points in sorted(expired.items()):
        no, name = people[member_id]
        report.members.append(no)
        report.points += points
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_points_expired",
                context={
                    "name": name,
                    "points": points,
                    "balance": balances.get(member_id, 0),
                    "day": zh_date(as_of),
                },
                # Only members with new expiry rows get here, so a re-run tells no one twice.
                idem_key=f"member:{no}:points-expired:{as_of.isoformat()}",
            )
        )
    queue_notifications(session=session, requests=requests, now=now, settings=settings)
    run_logger("members").info(
        "expired %s points of %s members", report.points, len(report.members)
    )
    return report


def warn_expiring_points(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> WarningReport:
    """Tell members whose points expire after `as_of` and within the warning days how many
    and from when (once per member per month)."""
    years = settings.points_expire_years
    horizon = as_of + timedelta(days=settings.points_expiry_warning_days)
    candidates = members_with_grants_due(
        session=session, start=as_of + timedelta(days=1), end=horizon, years=years
    )
    lines = ledgers(session=session, member_ids=candidates, years=years)
    people = _members(session, candidates)
    report, requests = WarningReport(), []
    for member_id in candidates:
        points, first_day = expiring_within(
            lines[member_id], as_of, settings.points_expiry_warning_days
        )
        if points <= 0:
            continue
        no, name = people[member_id]
        report.members.append(no)
        report.points += points
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_points_expiring",
                context={"name": name, "points": points, "day": zh_date(first_day)},
                idem_key=f"member:{no}:points-expiring:{as_of:%Y-%m}",
            )
        )
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return report


@task(name="publish-points-expiry")
def publish_points_expiry(as_of: date, expired: ExpiryReport, warned: WarningReport) -> None:
    create_markdown_artifact(
        key="member-points-expiry",
        markdown=(
            f"### Points expiry {as_of.isoformat()}\n\n"
            f"| | members | points |\n|---|---:|---:|\n"
            f"| expired | {len(expired.members)} | {expired.points} |\n"
            f"| expiring within the warning days | {len(warned.members)} | {warned.points} |\n"
        ),
        description="Points expired this month and points warned about",
    )


expire_points_task = data_task(expire_points, retries=2, retry_delay_seconds=5)
warn_expiring_points_task = data_task(warn_expiring_points, retries=2, retry_delay_seconds=5)
