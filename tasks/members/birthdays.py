"""Birthday greetings with the birthday-month benefit: once per member per year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import extract, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.members import MemberStatus, birthday_in, recipient
from domain.models import Club, Member
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class BirthdayReport:
    day: date
    greeted: list[str] = field(default_factory=list)
    queued: int = 0


def members_with_birthday(*, session: Session, day: date) -> list[tuple[str, str, str | None]]:
    """(member number, name, club name) of the active members celebrating on `day`;
    29 February birthdays are celebrated on 28 February in a non-leap year."""
    rows = session.execute(
        select(Member.member_no, Member.name, Member.birthday, Club.name)
        .outerjoin(Club, Club.id == Member.club_id)
        .where(Member.status == MemberStatus.active)
        .where(extract("month", Member.birthday) == day.month)
        .order_by(Member.member_no)
    ).all()
    return [(no, name, club) for no, name, born, club in rows if birthday_in(born, day.year) == day]


def queue_birthday_greetings(
    *, session: Session, day: date, now: datetime, settings: Settings
) -> BirthdayReport:
    report = BirthdayReport(day=day)
    requests = []
    for no, name, club in members_with_birthday(session=session, day=day):
        report.greeted.append(no)
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_birthday",
                context={
                    "name": name,
                    "club": club or "羽林车友俱乐部",
                    "benefit": settings.birthday_benefit,
                    "month": day.month,
                },
                # Once per member per year, whichever day the greeting actually goes out.
                idem_key=f"member:{no}:birthday:{day.year}",
            )
        )
    if requests:
        report.queued = queue_notifications(
            session=session, requests=requests, now=now, settings=settings
        ).queued
    return report


queue_birthday_greetings_task = data_task(
    queue_birthday_greetings, retries=2, retry_delay_seconds=5
)
