"""Points for an activity's participants (积分): one ledger row per activity and member, ever;
then balance, rank and tier are recomputed and members who rose are told (same transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.activities import points_for
from domain.models import Activity, Registration
from tasks.activities.refusals import RETRY, ActivityError
from tasks.activities.store import get_activity
from tasks.common import data_task

# The member area's ledger: the one import boundary of this step.
from tasks.members.ledger import grant_points, recompute_members


@dataclass
class PointsReport:
    code: str
    participants: int = 0
    rows_added: int = 0
    rose: list[str] = field(default_factory=list)  # member numbers whose rank or tier rose


def issue_points(
    *, session: Session, activity: Activity, now: datetime, settings: Settings
) -> PointsReport:
    """Grant class points to every checked-in participant (organisers get the bonus).

    The ledger's unique keys decide: a re-run inserts no row and notifies no one again.
    """
    if activity.status not in ("approved", "announced", "archived"):
        raise ActivityError(f"activity {activity.code} is {activity.status}; no points")
    participants = session.execute(
        select(Registration.member_id, Registration.is_organiser).where(
            Registration.activity_id == activity.id, Registration.checked_in_at.is_not(None)
        )
    ).all()
    rows = [
        {
            "member_id": member_id,
            "amount": points_for(
                activity.klass,
                organiser=organiser,
                points_by_class=settings.points_by_class,
                organiser_bonus=settings.organiser_points_bonus,
            ),
            "reason": "organiser" if organiser else "activity",
            "activity_id": activity.id,
            "idem_key": f"activity:{activity.id}:member:{member_id}",
            "occurred_at": now,
        }
        for member_id, organiser in participants
    ]
    report = PointsReport(code=activity.code, participants=len(rows))
    new_ids = grant_points(session=session, rows=rows, settings=settings)
    report.rows_added = len(new_ids)
    if activity.points_issued_at is None:
        activity.points_issued_at = now
    session.flush()
    changes = recompute_members(
        session=session, member_ids=[r["member_id"] for r in rows], now=now, settings=settings
    )
    report.rose = sorted(c.member_no for c in changes if c.rose)
    return report


def issue_activity_points(
    *, session: Session, code: str, now: datetime, settings: Settings
) -> PointsReport:
    """Points for one activity now (the sweep does this on the points date by itself)."""
    activity = get_activity(session=session, code=code)
    return issue_points(session=session, activity=activity, now=now, settings=settings)


issue_points_task = data_task(issue_activity_points, name="issue-points", **RETRY)
