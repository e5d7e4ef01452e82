"""归档: freeze plan, decisions, participants, recap and claim into one row for audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain.activities import ActivityStatus, move_activity
from domain.models import Activity, Decision, Gate, Member, Recap, Registration, SubsidyClaim
from domain.models_activities import ActivityArchive
from tasks.activities.claims import read_claim

FINAL_CLAIM = ("paid",)


def ready_to_archive(*, session: Session, activity: Activity) -> bool:
    """Points issued, and the claim (if any) settled: paid, or decided at zero."""
    if activity.points_issued_at is None or activity.archived_at is not None:
        return False
    claim = session.execute(
        select(SubsidyClaim).where(SubsidyClaim.activity_id == activity.id)
    ).scalar_one_or_none()
    if claim is None:
        return True
    return claim.status == "paid" or (claim.status == "decided" and not claim.total_approved)


def snapshot(*, session: Session, activity: Activity) -> dict[str, Any]:
    claim_row = session.execute(
        select(SubsidyClaim).where(SubsidyClaim.activity_id == activity.id)
    ).scalar_one_or_none()
    gates = session.execute(
        select(Gate).where(
            or_(
                (Gate.subject_type == "activity") & (Gate.subject_id == activity.id),
                (Gate.subject_type == "claim")
                & (Gate.subject_id == (claim_row.id if claim_row else -1)),
            )
        )
    ).scalars()
    gate_ids = {g.id: g for g in gates}
    decisions = session.execute(
        select(Decision).where(Decision.gate_id.in_(list(gate_ids))).order_by(Decision.id)
    ).scalars()
    participants = session.execute(
        select(Member.member_no, Registration.checked_in_at, Registration.is_organiser)
        .join(Member, Member.id == Registration.member_id)
        .where(Registration.activity_id == activity.id, Registration.checked_in_at.is_not(None))
        .order_by(Member.member_no)
    ).all()
    recap = session.execute(
        select(Recap).where(Recap.activity_id == activity.id)
    ).scalar_one_or_none()
    return {
        "plan": activity.proposal,
        "code": activity.code,
        "status": activity.status,
        "decisions": [
            {
                "gate": gate_ids[d.gate_id].key,
                "round": gate_ids[d.gate_id].round,
                "subject": gate_ids[d.gate_id].subject_type,
                "decider": d.decider,
                "outcome": d.outcome,
                "accepted": d.accepted,
                "refusal_reason": d.refusal_reason,
                "comment": d.comment,
                "decided_at": d.decided_at.isoformat(),
            }
            for d in decisions
        ],
        "participants": [
            {"member_no": no, "checked_in_at": at.isoformat(), "organiser": organiser}
            for no, at, organiser in participants
        ],
        "recap": recap.model_dump(mode="json", exclude={"id"}) if recap else None,
        "claim": (
            read_claim(session=session, code=activity.code).model_dump(mode="json")
            if claim_row
            else None
        ),
    }


def archive_activity(*, session: Session, activity: Activity, now: datetime) -> bool:
    """Archive once; returns whether this call archived it."""
    new = insert_ignoring_conflicts(
        session,
        ActivityArchive,
        [
            {
                "activity_id": activity.id,
                "snapshot": snapshot(session=session, activity=activity),
                "archived_at": now,
            }
        ],
        on=["activity_id"],
    )
    if activity.archived_at is None:
        activity.archived_at = now
        activity.status = move_activity(activity.status, ActivityStatus.archived)
        session.flush()
    return bool(new)
