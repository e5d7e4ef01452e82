"""Emergencies (突发事件) in the store: reported by the signed-in person, handled (actions and the
responsible person), closed with the recovery and the lessons learned. HQ and the region's
specialist are told at once (urgent: quiet hours do not hold these back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.disputes import INCIDENT_KINDS, close_problems, code_for, incident_refusal
from domain.models import Activity
from domain.models_disputes import Incident, IncidentAction
from domain.models_portal import PortalAudit
from domain.privacy import mask_text
from tasks.audit import Refused, actor_of, record_refusal
from tasks.outbox import NotificationRequest, queue_notifications


def _check(*, session: Session, username: str, action: str, incident: Incident | None, now):
    actor = actor_of(session=session, username=username)
    reason = incident_refusal(
        actor, username=username, action=action, status=incident.status if incident else None
    )
    if reason is not None:
        record_refusal(
            session=session,
            action=f"incident.{action}",
            subject=incident.code if incident else "(new incident)",
            actor=username,
            reason=reason,
            now=now,
        )
        session.commit()  # the refusal stays
        raise Refused(reason)
    return actor


def get_incident(*, session: Session, code: str) -> Incident:
    row = session.execute(select(Incident).where(Incident.code == code)).scalar_one_or_none()
    if row is None:
        raise LookupError(f"unknown incident {code!r}")
    return row


def incident_recipients(region_code: str | None) -> list[str]:
    """HQ (the campaign managers) and, when known, the region's specialist."""
    return ["role:campaign_manager"] + (
        [f"role:regional_specialist:{region_code}"] if region_code else []
    )


def report_incident(
    *,
    session: Session,
    username: str,
    kind: str,
    what: str,
    now: datetime,
    settings: Settings,
    activity_code: str | None = None,
    outlet: str = "",
    place: str = "",
) -> Incident:
    actor = _check(session=session, username=username, action="report", incident=None, now=now)
    if kind not in INCIDENT_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(INCIDENT_KINDS)}")
    if not what.strip():
        raise ValueError("what: required")
    region = actor.region_code
    if activity_code:
        activity = session.execute(
            select(Activity).where(Activity.code == activity_code)
        ).scalar_one_or_none()
        if activity is None:
            raise ValueError(f"activity: unknown activity {activity_code!r}")
        region, place = activity.region_code, place or activity.place
    elif not outlet.strip():
        raise ValueError("where: name the activity or the outlet")
    day = calendar.business_date(now)
    n = session.execute(
        select(func.count()).select_from(Incident).where(Incident.code.like(f"INC-{day:%Y%m%d}-%"))
    ).scalar_one()
    incident = Incident(
        code=code_for("INC", day, n + 1),
        kind=kind,
        activity_code=activity_code or None,
        outlet=outlet,
        region_code=region,
        place=place,
        what=mask_text(what),
        reporter=username,
        reported_at=now,
    )
    session.add(incident)
    session.flush()
    session.add(
        PortalAudit(at=now, actor=username, action="incident.report", subject=incident.code)
    )
    context = {
        "code": incident.code,
        "kind": kind,
        "where": activity_code or outlet,
        "place": place,
        "what": incident.what,
        "reporter": username,
        "reported_at": calendar.business_date(now).isoformat()
        + " "
        + now.astimezone(calendar.BUSINESS_TZ).strftime("%H:%M"),
    }
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=recipient,
                template="incident_reported",
                context=context,
                idem_key=f"incident:{incident.id}:reported:{recipient}",
                urgent=True,
            )
            for recipient in incident_recipients(region)
        ],
        now=now,
        settings=settings,
    )
    return incident


def record_incident_action(
    *, session: Session, username: str, code: str, action: str, responsible: str, now: datetime
) -> IncidentAction:
    incident = get_incident(session=session, code=code)
    _check(session=session, username=username, action="act", incident=incident, now=now)
    if not action.strip() or not responsible.strip():
        raise ValueError("action, responsible: both required")
    row = IncidentAction(
        incident_id=incident.id,
        action=mask_text(action),
        responsible=responsible,
        recorded_by=username,
        recorded_at=now,
    )
    session.add(row)
    session.add(PortalAudit(at=now, actor=username, action="incident.act", subject=code))
    session.flush()
    return row


def close_incident(
    *, session: Session, username: str, code: str, recovery: str, lessons: str, now: datetime
) -> Incident:
    incident = get_incident(session=session, code=code)
    _check(session=session, username=username, action="close", incident=incident, now=now)
    problems = close_problems(recovery=recovery, lessons=lessons)
    if problems:
        raise ValueError("; ".join(f"{field}: {reason}" for field, reason in problems))
    incident.status = "closed"
    incident.recovery, incident.lessons = mask_text(recovery), mask_text(lessons)
    incident.closed_by, incident.closed_at = username, now
    session.add(PortalAudit(at=now, actor=username, action="incident.close", subject=code))
    session.flush()
    return incident
