"""The warm-up announcement (预热): to the club's members and, for class B, to the admins of
the invited regions' clubs. One message per recipient and activity, ever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from domain.activities import ActivityStatus, move_activity
from domain.models import Activity, ActivityClass, Club, Member, Person, Role
from domain.regions import region_info
from tasks.outbox import NotificationRequest


def warmup_recipients(*, session: Session, activity: Activity) -> list[tuple[str, str]]:
    """(recipient, key part) pairs: members of the club; for B, invited regions' club admins."""
    out: list[tuple[str, str]] = []
    if activity.club_id is not None:
        members = session.execute(
            select(Member.id, Member.member_no)
            .where(Member.club_id == activity.club_id, Member.status == "active")
            .order_by(Member.id)
        ).all()
        out += [(f"member:{no}", f"member:{member_id}") for member_id, no in members]
    if activity.klass == ActivityClass.B and activity.invited_regions:
        admins = session.execute(
            select(Person.username)
            .join(Club, Club.id == Person.club_id)
            .where(
                Person.role == Role.club_admin,
                Person.active.is_(True),
                Club.region_code.in_(activity.invited_regions),
            )
            .order_by(Person.username)
        ).scalars()
        out += [(f"person:{username}", f"person:{username}") for username in admins]
    return out


def announce(*, session: Session, activity: Activity, now: datetime) -> list[NotificationRequest]:
    """Mark the activity announced and build its warm-up messages (queued by the caller in the
    same transaction). Idempotency keys `activity:<id>:warmup:<recipient>` make a replay a no-op.
    """
    if activity.announced_at is None:
        activity.announced_at = now
    if activity.status == ActivityStatus.approved:
        activity.status = move_activity(activity.status, ActivityStatus.announced)
    session.flush()
    context = {
        "code": activity.code,
        "title": activity.title,
        "klass": str(activity.klass),
        "theme": activity.theme,
        "region": region_info(activity.region_code).name_zh,
        "starts_on": activity.starts_on.isoformat(),
        "ends_on": activity.ends_on.isoformat(),
        "place": activity.place,
        "host_club": session.get(Club, activity.club_id).name if activity.club_id else "总部",
    }
    return [
        NotificationRequest(
            recipient=recipient,
            template="activity_warmup",
            context=context,
            idem_key=f"activity:{activity.id}:warmup:{key}",
        )
        for recipient, key in warmup_recipients(session=session, activity=activity)
    ]
