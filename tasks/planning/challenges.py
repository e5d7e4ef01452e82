"""挑战: a region challenges another at a quarter's crossing; recorded once and notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain import calendar
from domain.models import Person, Role
from domain.models_planning import CrossingChallenge, QuarterPlanRecord
from domain.regions import region_info
from domain.rotation import Quarter
from tasks.outbox import NotificationRequest


class ChallengeError(ValueError):
    pass


@dataclass
class ChallengeResult:
    challenge_id: int
    quarter: str
    created: bool
    requests: list[NotificationRequest]


def challenge_quarter(*, session: Session, now: datetime) -> str:
    """The crossing a challenge refers to by default: the next planned one not yet over,
    else the quarter after the current one."""
    today = calendar.business_date(now)
    planned = session.execute(
        select(QuarterPlanRecord.quarter)
        .where(QuarterPlanRecord.crossing_ends_on >= today)
        .order_by(QuarterPlanRecord.crossing_starts_on)
        .limit(1)
    ).scalar_one_or_none()
    return planned or str(Quarter.of(today).next())


def record_challenge(
    *,
    session: Session,
    challenger: str,
    challenged: str,
    challenged_by: str,
    now: datetime,
    quarter: str | None = None,
    message: str = "",
) -> ChallengeResult:
    """Record the challenge (once per pair and quarter) and build its notifications: the
    specialists of both regions and the club admins of the challenged region."""
    src, dst = region_info(challenger), region_info(challenged)
    if src.code == dst.code:
        raise ChallengeError(f"region {src.code} cannot challenge itself")
    person = session.execute(
        select(Person).where(Person.username == challenged_by)
    ).scalar_one_or_none()
    if person is None:
        raise ChallengeError(f"unknown person {challenged_by!r}")
    may = person.role == Role.campaign_manager or (
        person.role in (Role.regional_specialist, Role.club_admin)
        and person.region_code == src.code
    )
    if not may:
        raise ChallengeError(
            f"{challenged_by!r} ({person.role}, region {person.region_code}) may not challenge "
            f"on behalf of {src.code}: a specialist or club admin of {src.code} may"
        )
    q = str(Quarter.parse(quarter)) if quarter else challenge_quarter(session=session, now=now)
    ids = insert_ignoring_conflicts(
        session,
        CrossingChallenge,
        [
            {
                "quarter": q,
                "from_region": src.code,
                "to_region": dst.code,
                "message": message,
                "challenged_by": challenged_by,
                "created_at": now,
            }
        ],
        on=["quarter", "from_region", "to_region"],
    )
    row = session.execute(
        select(CrossingChallenge).where(
            CrossingChallenge.quarter == q,
            CrossingChallenge.from_region == src.code,
            CrossingChallenge.to_region == dst.code,
        )
    ).scalar_one()
    plan = session.execute(
        select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == q)
    ).scalar_one_or_none()
    context = {
        "challenger": src.name_zh,
        "challenged": dst.name_zh,
        "quarter": q,
        "crossing": f"{region_info(plan.crossing_region).name_zh} {plan.crossing_theme}"
        if plan
        else "",
        "message": row.message,
        "challenged_by": row.challenged_by,
    }
    admins = session.execute(
        select(Person.username).where(
            Person.role == Role.club_admin,
            Person.region_code == dst.code,
            Person.active.is_(True),
        )
    ).scalars()
    recipients = [
        f"role:regional_specialist:{dst.code}",
        f"role:regional_specialist:{src.code}",
        *(f"person:{u}" for u in sorted(admins)),
    ]
    requests = [
        NotificationRequest(
            recipient=r,
            template="planning_challenge",
            context=context,
            idem_key=f"challenge:{row.id}:{r}",
        )
        for r in recipients
    ]
    return ChallengeResult(row.id, q, bool(ids), requests)
