"""Satisfaction after an activity: a seeded sample of the checked-in participants gets a call
task (the agents' /satisfaction list) and a survey link; scores are stored once each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.complaints import ComplaintError, satisfaction_sample, score_refusal
from domain.models import Activity, Member, Registration
from domain.models_complaints import SatisfactionCall
from domain.permissions import role_refusal
from tasks.audit import actor_of, record_refusal
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class SampleSummary:
    activity: str
    checked_in: int
    sampled: int
    new: int


def _token(activity_code: str, member_no: str, settings: Settings) -> str:
    key = settings.signing_key.get_secret_value()
    return hashlib.sha256(f"{key}:survey:{activity_code}:{member_no}".encode()).hexdigest()[:32]


def sample_satisfaction(
    *, session: Session, activity_code: str, now: datetime, settings: Settings
) -> SampleSummary:
    """Pick the sample for one ended activity; a re-run picks the same members and adds
    nothing (one call per activity and member)."""
    activity = session.execute(
        select(Activity).where(Activity.code == activity_code)
    ).scalar_one_or_none()
    if activity is None:
        raise ComplaintError(f"activity: no activity {activity_code!r}")
    checked = (
        session.execute(
            select(Registration.member_id).where(
                Registration.activity_id == activity.id, Registration.checked_in_at.is_not(None)
            )
        )
        .scalars()
        .all()
    )
    picked = satisfaction_sample(
        activity.code,
        list(checked),
        share=settings.satisfaction_share,
        minimum=settings.satisfaction_min,
        maximum=settings.satisfaction_max,
    )
    members = {
        m.id: m for m in session.execute(select(Member).where(Member.id.in_(picked))).scalars()
    }
    rows = [
        {
            "activity_id": activity.id,
            "member_id": mid,
            "club_id": activity.club_id,
            "token": _token(activity.code, members[mid].member_no, settings),
            "created_at": now,
            "comment": "",
        }
        for mid in picked
    ]
    new = insert_ignoring_conflicts(
        session, SatisfactionCall, rows, on=["activity_id", "member_id"]
    )
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=f"member:{members[r['member_id']].member_no}",
                template="satisfaction_survey",
                context={
                    "activity": activity.title,
                    "link": portal_link(f"/me/survey/{r['token']}", settings=settings, now=now),
                },
                idem_key=f"survey:{activity.code}:{members[r['member_id']].member_no}",
            )
            for r in rows
        ],
        now=now,
        settings=settings,
    )
    session.commit()
    return SampleSummary(activity.code, len(checked), len(picked), len(new))


def ended_activities(*, session: Session, today, settings: Settings) -> list[str]:
    """Activities that have ended (by today) and have no sample yet."""
    sampled = select(SatisfactionCall.activity_id)
    return list(
        session.execute(
            select(Activity.code)
            .where(
                Activity.ends_on < today,
                Activity.status.in_(("announced", "archived")),
                Activity.id.not_in(sampled),
            )
            .order_by(Activity.code)
        ).scalars()
    )


def record_score(
    *,
    session: Session,
    score: int,
    comment: str,
    actor: str,
    now: datetime,
    call_id: int | None = None,
    token: str | None = None,
) -> SatisfactionCall:
    """An agent records a call's answer (by call id), or the member answers the survey (by
    token, actor `member:<no>`). Each call is answered once."""
    if token is not None:
        call = session.execute(
            select(SatisfactionCall).where(SatisfactionCall.token == token)
        ).scalar_one_or_none()
    else:
        call = session.get(SatisfactionCall, call_id)
    if call is None:
        raise ComplaintError("survey: unknown call or link")
    if token is None:
        problem = role_refusal(
            actor_of(session=session, username=actor),
            username=actor,
            roles=("call_agent", "call_supervisor"),
            action="satisfaction",
        )
    else:
        member = session.get(Member, call.member_id)
        problem = (
            None
            if actor == f"member:{member.member_no}"
            else f"{actor} is not this survey's member"
        )
    if problem is None and call.score is not None:
        problem = f"satisfaction call #{call.id} is already answered"
    if problem:
        record_refusal(
            session=session,
            action="satisfaction.score",
            subject=f"satisfaction:{call.id}",
            actor=actor,
            reason=problem,
            now=now,
        )
        session.commit()
        raise ComplaintError(problem)
    if (bad := score_refusal(score)) is not None:
        raise ComplaintError(bad)
    call.score, call.comment, call.answered_by, call.answered_at = score, comment, actor, now
    session.commit()
    return call
