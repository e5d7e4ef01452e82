"""The members' daily points digest: one message a day per member listing the day's credits
(activities, spending, online interactions), instead of a message per ledger row.

A credit belongs to the business day of its `occurred_at`. The key `member:<no>:points-
digest:<day>` makes a re-run (or a second run that day) send nothing again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.members import recipient, zh_date
from domain.models import Member, PointsEntry
from domain.points_earn import day_bounds, reason_label
from tasks.common import chunks, data_task
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class DigestReport:
    day: date
    members: list[str] = field(default_factory=list)
    queued: int = 0


def queue_points_digests(
    *, session: Session, day: date, now: datetime, settings: Settings
) -> DigestReport:
    """Queue one digest per member credited on `day` (positive ledger rows)."""
    start, end = day_bounds(day)
    credits: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for member_id, reason, amount in session.execute(
        select(PointsEntry.member_id, PointsEntry.reason, PointsEntry.amount)
        .where(
            PointsEntry.amount > 0,
            PointsEntry.occurred_at >= start,
            PointsEntry.occurred_at < end,
        )
        .order_by(PointsEntry.member_id, PointsEntry.occurred_at, PointsEntry.id)
    ).all():
        credits[member_id].append((reason, amount))
    report = DigestReport(day=day)
    if not credits:
        return report
    people: dict[int, tuple[str, str, int]] = {}
    for batch in chunks(sorted(credits)):
        for mid, no, name, points in session.execute(
            select(Member.id, Member.member_no, Member.name, Member.points).where(
                Member.id.in_(batch)
            )
        ).all():
            people[mid] = (no, name, points)
    requests = []
    for member_id, rows in sorted(credits.items()):
        no, name, balance = people[member_id]
        # Rows of the same reason are summed: five sign-ins are one line.
        summed: dict[str, int] = {}
        for reason, amount in rows:
            summed[reason] = summed.get(reason, 0) + amount
        report.members.append(no)
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_points_digest",
                context={
                    "name": name,
                    "day": zh_date(day),
                    "total": sum(summed.values()),
                    "balance": balance,
                    "lines": [{"label": reason_label(r), "amount": a} for r, a in summed.items()],
                },
                idem_key=f"member:{no}:points-digest:{day.isoformat()}",
            )
        )
    result = queue_notifications(session=session, requests=requests, now=now, settings=settings)
    report.queued = result.queued
    return report


queue_points_digests_task = data_task(queue_points_digests)
