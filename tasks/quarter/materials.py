"""Handbook and operations materials of class A/B/C activities: their record (due three
weeks before the start, preparation two weeks before), the organiser's submission, and
HQ's or the regional specialist's confirmation or return with a reason.

Data functions take the session (keyword-only). Who may act is checked by the
`*_refusal` functions; callers record a refusal before they refuse (CLI, portal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.models import Activity, Person
from domain.models_quarter import ActivityMaterials
from domain.permissions import Actor
from domain.quarter import (
    MATERIAL_CLASSES,
    MaterialStatus,
    check_material_move,
    material_reviewer_refusal,
    materials_due_on,
    preparation_starts_on,
)
from domain.regions import region_info
from tasks.outbox import NotificationRequest

ACTIVE = ("approved", "announced")


def material_dates(starts_on: date, *, settings: Settings) -> tuple[date, date]:
    """(materials due, preparation starts) of an activity starting on `starts_on`."""
    return (
        materials_due_on(
            starts_on,
            weeks_before=settings.materials_weeks_before,
            is_working_day=calendar.is_working_day,
        ),
        preparation_starts_on(
            starts_on,
            weeks_before=settings.preparation_weeks_before,
            is_working_day=calendar.is_working_day,
        ),
    )


def ensure_materials(*, session: Session, today: date, settings: Settings) -> int:
    """A materials record for every approved class A/B/C activity still to come; the dates
    follow the activity's start (a moved start moves them while nothing was submitted)."""
    activities = session.execute(
        select(Activity).where(
            Activity.klass.in_(MATERIAL_CLASSES),
            Activity.status.in_(ACTIVE),
            Activity.starts_on > today,
        )
    ).scalars()
    rows, existing = [], {}
    activities = list(activities)
    if activities:
        existing = {
            m.activity_id: m
            for m in session.execute(
                select(ActivityMaterials).where(
                    ActivityMaterials.activity_id.in_([a.id for a in activities])
                )
            ).scalars()
        }
    for activity in activities:
        due_on, prep_on = material_dates(activity.starts_on, settings=settings)
        row = existing.get(activity.id)
        if row is None:
            rows.append({"activity_id": activity.id, "due_on": due_on, "preparation_on": prep_on})
        elif row.status == MaterialStatus.due and (row.due_on, row.preparation_on) != (
            due_on,
            prep_on,
        ):
            row.due_on, row.preparation_on = due_on, prep_on
    return len(insert_ignoring_conflicts(session, ActivityMaterials, rows, on=["activity_id"]))


@dataclass
class MaterialsView:
    code: str
    title: str
    klass: str
    region_code: str
    starts_on: date
    organiser: str
    due_on: date
    preparation_on: date
    status: str
    handbook: str
    operations: str
    note: str
    return_reason: str
    submitted_by: str | None
    decided_by: str | None


def _view(activity: Activity, row: ActivityMaterials) -> MaterialsView:
    return MaterialsView(
        code=activity.code,
        title=activity.title,
        klass=str(activity.klass),
        region_code=activity.region_code,
        starts_on=activity.starts_on,
        organiser=activity.proposed_by,
        due_on=row.due_on,
        preparation_on=row.preparation_on,
        status=row.status,
        handbook=row.handbook,
        operations=row.operations,
        note=row.note,
        return_reason=row.return_reason,
        submitted_by=row.submitted_by,
        decided_by=row.decided_by,
    )


def _load(session: Session, code: str) -> tuple[Activity, ActivityMaterials]:
    activity = session.execute(select(Activity).where(Activity.code == code)).scalar_one_or_none()
    if activity is None:
        raise LookupError(f"activity {code!r} not found")
    row = session.execute(
        select(ActivityMaterials).where(ActivityMaterials.activity_id == activity.id)
    ).scalar_one_or_none()
    if row is None:
        raise LookupError(
            f"activity {code}: no materials are due (class {activity.klass}, {activity.status}; "
            f"materials are for approved class {'/'.join(MATERIAL_CLASSES)} activities)"
        )
    return activity, row


def read_materials(*, session: Session, code: str) -> MaterialsView:
    return _view(*_load(session, code))


def submitter_refusal(*, session: Session, code: str, actor: Actor | None) -> str | None:
    """The organiser (who proposed the activity) or an admin of its club submits."""
    try:
        activity, _ = _load(session, code)
    except LookupError as exc:
        return str(exc)
    if actor is None or not actor.active:
        return "unknown or inactive user"
    if actor.username == activity.proposed_by:
        return None
    if actor.role == "club_admin" and activity.club_id and actor.club_id == activity.club_id:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is not the organiser of {code}; "
        "the organiser or the club's admin submits its materials"
    )


def reviewer_refusal(*, session: Session, code: str, actor: Actor | None) -> str | None:
    try:
        activity, _ = _load(session, code)
    except LookupError as exc:
        return str(exc)
    if actor is None:
        return "unknown user"
    return material_reviewer_refusal(
        role=actor.role,
        region_code=actor.region_code,
        active=actor.active,
        klass=str(activity.klass),
        activity_region=activity.region_code,
    )


def reviewer_recipient(klass: str, region_code: str) -> str:
    return "role:campaign_manager" if klass == "A" else f"role:regional_specialist:{region_code}"


def materials_link(code: str, *, settings: Settings, now: datetime) -> str:
    return portal_link(f"/materials/{code}", settings=settings, now=now)


def submit_materials(
    *,
    session: Session,
    code: str,
    handbook: str,
    operations: str,
    note: str = "",
    by: str,
    now: datetime,
    settings: Settings,
) -> tuple[MaterialsView, list[NotificationRequest]]:
    """Hand in the handbook and operations materials (links or stored files); the reviewer
    is asked to confirm. A returned submission may be submitted again."""
    activity, row = _load(session, code)
    if not handbook.strip() or not operations.strip():
        raise ValueError(f"activity {code}: both the handbook and the operations materials")
    check_material_move(row.status, MaterialStatus.submitted)
    row.status = MaterialStatus.submitted
    row.handbook, row.operations, row.note = handbook.strip(), operations.strip(), note.strip()
    row.submitted_by, row.submitted_at = by, now
    request = NotificationRequest(
        recipient=reviewer_recipient(str(activity.klass), activity.region_code),
        template="quarter_materials_submitted",
        context={
            "code": code,
            "title": activity.title,
            "starts_on": activity.starts_on.isoformat(),
            "by": by,
            "link": materials_link(code, settings=settings, now=now),
        },
        idem_key=f"activity:{activity.id}:materials:r{row.round}:submitted",
    )
    return _view(activity, row), [request]


def decide_materials(
    *,
    session: Session,
    code: str,
    outcome: str,
    reason: str = "",
    by: str,
    now: datetime,
    settings: Settings,
) -> tuple[MaterialsView, list[NotificationRequest]]:
    """Confirm the materials, or return them with a reason; the organiser hears either."""
    activity, row = _load(session, code)
    outcome = outcome.strip().lower()
    if outcome not in ("confirm", "return"):
        raise ValueError(f"outcome {outcome!r} is not one of confirm, return")
    if outcome == "return" and not reason.strip():
        raise ValueError(f"activity {code}: returning the materials needs a reason")
    new = MaterialStatus.confirmed if outcome == "confirm" else MaterialStatus.returned
    check_material_move(row.status, new)
    row.status, row.decided_by, row.decided_at = new, by, now
    row.return_reason = reason.strip() if outcome == "return" else row.return_reason
    request = NotificationRequest(
        recipient=f"person:{activity.proposed_by}",
        template="quarter_materials_decided",
        context={
            "code": code,
            "title": activity.title,
            "confirmed": outcome == "confirm",
            "reason": reason.strip(),
            "by": by,
            "link": materials_link(code, settings=settings, now=now),
        },
        idem_key=f"activity:{activity.id}:materials:r{row.round}:{outcome}",
    )
    if outcome == "return":
        row.round += 1
    return _view(activity, row), [request]


def materials_waiting_on(*, session: Session, person: Person) -> list[MaterialsView]:
    """What waits on `person`: materials to hand in (organiser), or to confirm (reviewer)."""
    pairs = session.execute(
        select(Activity, ActivityMaterials)
        .join(ActivityMaterials, ActivityMaterials.activity_id == Activity.id)
        .where(ActivityMaterials.status != MaterialStatus.confirmed)
        .order_by(ActivityMaterials.due_on)
    ).all()
    actor = Actor(person.username, str(person.role), person.region_code, person.club_id)
    out = []
    for activity, row in pairs:
        if row.status == MaterialStatus.submitted:
            refusal = material_reviewer_refusal(
                role=actor.role,
                region_code=actor.region_code,
                active=person.active,
                klass=str(activity.klass),
                activity_region=activity.region_code,
            )
            if refusal is None:
                out.append(_view(activity, row))
        elif activity.proposed_by == person.username:
            out.append(_view(activity, row))
    return out


def region_zh(code: str) -> str:
    return region_info(code).name_zh
