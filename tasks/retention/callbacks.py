"""Lost members' call-backs on the leads' call machinery: open one per lost episode, assign
it to an agent on duty (least load first), record each call's outcome and, when connected,
the churn reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import task
from prefect.artifacts import create_table_artifact
from sqlalchemy import and_, func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.leads_outcomes import RESOLUTION_LABELS, parse_outcome
from domain.leads_plan import AgentSlot, CallPlan, assign_leads, call_plan
from domain.members import MemberStatus, Segment
from domain.models import Club, Member, Person
from domain.models_retention import MemberCallback, MemberCallbackCall
from domain.privacy import mask_phone
from domain.retention import (
    CHURN_LABELS,
    ChurnReason,
    apply_callback_outcome,
    callback_refusal,
    parse_churn_reason,
)
from tasks.audit import Refused, actor_of, record_refusal
from tasks.common import data_task, run_logger
from tasks.leads.assignment import agents_on_duty
from tasks.leads.roster import service_hours


@dataclass
class CallbackOpening:
    opened: list[str] = field(default_factory=list)  # member numbers
    assigned: dict[str, int] = field(default_factory=dict)  # agent → call-backs
    unassigned: int = 0


def open_callbacks(*, session: Session, now: datetime, settings: Settings) -> CallbackOpening:
    """A call-back for every lost member without one for this lost episode, then every
    unassigned open call-back to an agent on duty (within the retention's daily cap)."""
    cb = MemberCallback
    rows = session.execute(
        select(Member.id, Member.member_no, Member.club_id, Member.segment_since)
        .outerjoin(cb, and_(cb.member_id == Member.id, cb.lost_since == Member.segment_since))
        .where(
            Member.status == MemberStatus.active,
            Member.segment == Segment.lost,
            cb.id.is_(None),
        )
        .order_by(Member.id)
    ).all()
    hours = service_hours(session=session, settings=settings, start=business_date(now))
    plan = call_plan(now, hours=hours)
    insert_ignoring_conflicts(
        session,
        MemberCallback,
        [
            {
                "member_id": member_id,
                "club_id": club_id,
                "lost_since": since,
                "status": "open",
                "next_call_no": 1,
                "next_call_due": plan.call_day,
                "call_day": plan.call_day,
                "third_call_due": plan.third_call_due,
                "created_at": now,
            }
            for member_id, _no, club_id, since in rows
        ],
        on=["member_id", "lost_since"],
    )
    result = CallbackOpening(opened=[no for _id, no, _club, _since in rows])
    waiting = list(
        session.execute(
            select(MemberCallback.id)
            .where(MemberCallback.status == "open", MemberCallback.agent_id.is_(None))
            .order_by(MemberCallback.call_day, MemberCallback.id)
        ).scalars()
    )
    open_load = dict(
        session.execute(
            select(MemberCallback.agent_id, func.count())
            .where(MemberCallback.status == "open", MemberCallback.agent_id.is_not(None))
            .group_by(MemberCallback.agent_id)
        ).all()
    )
    slots = [
        AgentSlot(
            username=slot.username,
            agent_id=slot.agent_id,
            open_load=slot.open_load + open_load.get(slot.agent_id, 0),
            remaining_today=settings.retention_callbacks_per_agent_day,
        )
        for slot in agents_on_duty(session=session, now=now, hours=hours)
    ]
    names = {s.agent_id: s.username for s in slots}
    for callback_id, agent_id in assign_leads(waiting, slots).items():
        row = session.get(MemberCallback, callback_id)
        row.agent_id = agent_id
        session.add(row)
        result.assigned[names[agent_id]] = result.assigned.get(names[agent_id], 0) + 1
    result.unassigned = len(waiting) - sum(result.assigned.values())
    session.flush()
    run_logger("retention").info(
        "opened %s member call-backs, assigned %s, %s wait for an agent",
        len(result.opened),
        sum(result.assigned.values()),
        result.unassigned,
    )
    return result


def record_callback_outcome(
    *,
    session: Session,
    member_no: str,
    call_no: int,
    outcome: str,
    actor: str,
    now: datetime,
    settings: Settings,
    churn_reason: str | None = None,
    appointment_at: datetime | None = None,
    note: str = "",
) -> MemberCallback:
    """Apply one call to the member's open call-back (or the latest one); refusals recorded.

    OutcomeRejected names a bad outcome, call number or reason; Refused a wrong actor."""
    callback = session.execute(
        select(MemberCallback)
        .join(Member, Member.id == MemberCallback.member_id)
        .where(Member.member_no == member_no)
        .order_by(MemberCallback.lost_since.desc())
        .limit(1)
    ).scalar_one_or_none()
    if callback is None:
        raise LookupError(f"member {member_no!r} has no call-back")
    assigned = session.get(Person, callback.agent_id) if callback.agent_id else None
    reason = callback_refusal(
        actor_of(session=session, username=actor),
        username=actor,
        assigned_to=assigned.username if assigned else None,
    )
    if reason:
        record_refusal(
            session=session,
            action="member.callback",
            subject=f"member:{member_no}",
            actor=actor,
            reason=reason,
            now=now,
        )
        session.commit()
        raise Refused(reason)
    code = parse_outcome(outcome)
    reason_code = parse_churn_reason(churn_reason)
    transition = apply_callback_outcome(
        status=callback.status,
        next_call_no=callback.next_call_no,
        plan=CallPlan(callback.call_day, callback.third_call_due),
        call_no=call_no,
        outcome=code,
        called_at=now,
        churn_reason=reason_code,
        appointment_at=appointment_at,
    )
    session.add(
        MemberCallbackCall(
            callback_id=callback.id,
            call_no=call_no,
            outcome=code.value,
            churn_reason=reason_code.value if reason_code else None,
            note=note,
            called_at=now,
            called_by=actor,
        )
    )
    callback.status = transition.status.value
    callback.resolution = transition.resolution.value
    callback.next_call_no = transition.next_call_no or callback.next_call_no
    callback.next_call_due = transition.next_call_due
    callback.appointment_at = transition.appointment_at
    if reason_code:
        callback.churn_reason = reason_code.value
    if transition.closed:
        callback.closed_at = now
    session.add(callback)
    session.flush()
    return callback


def agent_callbacks(
    *, session: Session, agent: str | None = None, open_only: bool = True
) -> list[dict]:
    """Call-backs as the call centre sees them (phones masked): one agent's, or all."""
    query = (
        select(MemberCallback, Member.member_no, Member.name, Member.phone, Club.name, Person)
        .join(Member, Member.id == MemberCallback.member_id)
        .outerjoin(Club, Club.id == MemberCallback.club_id)
        .outerjoin(Person, Person.id == MemberCallback.agent_id)
        .order_by(MemberCallback.next_call_due, MemberCallback.id)
    )
    if open_only:
        query = query.where(MemberCallback.status == "open")
    if agent:
        query = query.where(Person.username == agent)
    out = []
    for cb, no, name, phone, club, person in session.execute(query).all():
        out.append(
            {
                "member_no": no,
                "name": name,
                "phone": mask_phone(phone),
                "club": club or "—",
                "agent": person.username if person else "",
                "lost_since": cb.lost_since,
                "status": cb.status,
                "next_call_no": cb.next_call_no,
                "next_call_due": cb.next_call_due,
                "resolution": RESOLUTION_LABELS.get(cb.resolution, "") if cb.resolution else "",
                "churn_reason": CHURN_LABELS[ChurnReason(cb.churn_reason)]
                if cb.churn_reason
                else "",
            }
        )
    return out


@task(name="publish-member-callbacks")
def publish_callbacks(opening: CallbackOpening) -> None:
    create_table_artifact(
        key="member-callbacks",
        table=[{"agent": agent, "call-backs": n} for agent, n in sorted(opening.assigned.items())]
        + [{"agent": "(waiting for an agent)", "call-backs": opening.unassigned}],
        description=f"Lost members' call-backs: {len(opening.opened)} opened this run",
    )


open_callbacks_task = data_task(open_callbacks, retries=2, retry_delay_seconds=5)
