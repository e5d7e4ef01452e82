"""A complaint's life: filed (member, call, dealer), received and classified (受理), handled
(处理), answered through the outbox (反馈), confirmed by the member. Every step is checked
against the actor (domain.complaints) and a refusal is recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.complaints import (
    CATEGORY_ZH,
    NEXT,
    ROLES,
    SEVERITY_ZH,
    SOURCE_ZH,
    SOURCES,
    ComplaintError,
    ComplaintStatus,
    Deadlines,
    confirm_refusal,
    due_dates,
    transition_refusal,
    validate_classification,
)
from domain.models import Dealer, Member
from domain.models_complaints import Complaint, ComplaintAction
from domain.permissions import role_refusal
from tasks.audit import actor_of, record_refusal
from tasks.outbox import NotificationRequest, queue_notifications


class ComplaintRefused(ComplaintError):
    """The actor may not do this (the refusal is already recorded)."""


def deadlines_of(settings: Settings) -> Deadlines:
    return Deadlines(
        receive_days=settings.complaint_receive_days,
        handle_days=settings.complaint_handle_days,
        answer_days=settings.complaint_answer_days,
        after_sales_contact_days=settings.complaint_after_sales_contact_days,
    )


def _refuse(session: Session, *, action: str, subject: str, actor: str, reason: str, now: datetime):
    record_refusal(
        session=session, action=action, subject=subject, actor=actor, reason=reason, now=now
    )
    session.commit()
    raise ComplaintRefused(reason)


def _member(session: Session, member_no: str) -> Member:
    member = session.execute(
        select(Member).where(Member.member_no == member_no)
    ).scalar_one_or_none()
    if member is None:
        raise ComplaintError(f"member: no member {member_no!r}")
    return member


def _log(session: Session, complaint: Complaint, kind: str, by: str, at: datetime, note: str = ""):
    session.add(ComplaintAction(complaint_id=complaint.id, kind=kind, by=by, at=at, note=note))


def file_complaint(
    *,
    session: Session,
    source: str,
    member_no: str,
    subject: str,
    body: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Complaint:
    """File a complaint. `actor` is `member:<no>` (the member on the portal) or a person /
    `dealer:<code>` who records it for the member."""
    if source not in SOURCES:
        raise ComplaintError(f"source: {source!r} is not one of {', '.join(SOURCES)}")
    if not subject.strip():
        raise ComplaintError("subject: empty")
    member = _member(session, member_no)
    dealer_id = None
    if source == "member":
        if actor != f"member:{member_no}":
            _refuse(
                session,
                action="complaints.file",
                subject=f"member:{member_no}",
                actor=actor,
                reason=f"{actor} may not file as member {member_no}",
                now=now,
            )
    else:
        who = actor_of(session=session, username=actor)
        problem = role_refusal(who, username=actor, roles=ROLES["file"], action="file")
        if problem is None and source == "dealer" and who.role != "dealer" and not who.dealer_id:
            problem = f"user {actor!r} is not a dealer's staff; source dealer needs one"
        if problem:
            _refuse(
                session,
                action="complaints.file",
                subject=f"member:{member_no}",
                actor=actor,
                reason=problem,
                now=now,
            )
        dealer_id = who.dealer_id
    region = None
    if dealer_id is not None:
        region = session.get(Dealer, dealer_id).region_code
    elif member.club_id is not None:
        from domain.models import Club

        region = session.get(Club, member.club_id).region_code
    due = due_dates(now, None, deadlines_of(settings))
    complaint = Complaint(
        source=source,
        member_id=member.id,
        dealer_id=dealer_id,
        region_code=region,
        subject=subject.strip(),
        body=body,
        filed_by=actor,
        filed_at=now,
        receive_due=due["receive"],
        handle_due=due["handle"],
        answer_due=due["answer"],
    )
    session.add(complaint)
    session.flush()
    _log(session, complaint, "file", actor, now)
    session.commit()
    return complaint


def _complaint(session: Session, complaint_id: int) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise ComplaintError(f"complaint: no complaint #{complaint_id}")
    return complaint


def _check(session, complaint, *, action, actor, now):
    problem = transition_refusal(
        actor_of(session=session, username=actor),
        username=actor,
        action=action,
        status=str(complaint.status),
        handler=complaint.handler,
    )
    if problem:
        _refuse(
            session,
            action=f"complaints.{action}",
            subject=f"complaint:{complaint.id}",
            actor=actor,
            reason=problem,
            now=now,
        )


def _late(complaint: Complaint, stage: str, now: datetime) -> bool:
    return business_date(now) > getattr(complaint, f"{stage}_due")


def receive_complaint(
    *,
    session: Session,
    complaint_id: int,
    category: str,
    severity: str,
    handler: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Complaint:
    """受理: classify and assign a handler. An after-sales complaint's receive date is the
    arrival day; a high-severity one is reported to HQ at once."""
    complaint = _complaint(session, complaint_id)
    _check(session, complaint, action="receive", actor=actor, now=now)
    validate_classification(category, severity)
    who = actor_of(session=session, username=handler)
    problem = role_refusal(who, username=handler, roles=ROLES["handle"], action="handle")
    if problem:
        raise ComplaintError(f"handler: {problem}")
    due = due_dates(complaint.filed_at, category, deadlines_of(settings))
    complaint.receive_due = due["receive"]
    complaint.late = complaint.late or _late(complaint, "receive", now)
    complaint.category, complaint.severity, complaint.handler = category, severity, handler
    complaint.status = NEXT["receive"]
    complaint.received_at = now
    _log(session, complaint, "receive", actor, now, f"{category}/{severity} → {handler}")
    requests = [
        NotificationRequest(
            recipient=f"person:{handler}",
            template="complaint_assigned",
            context=_context(complaint, settings=settings, now=now),
            idem_key=f"complaint:{complaint.id}:assigned",
        )
    ]
    if severity == "high":
        requests.append(
            NotificationRequest(
                recipient="role:campaign_manager",
                template="complaint_serious",
                context=_context(complaint, settings=settings, now=now),
                idem_key=f"complaint:{complaint.id}:serious",
                urgent=True,
            )
        )
    queue_notifications(session=session, requests=requests, now=now, settings=settings)
    session.commit()
    return complaint


def _context(complaint: Complaint, *, settings: Settings, now: datetime) -> dict:
    """What the staff messages say; labels in Chinese, the link signed to the portal page."""
    return {
        "id": complaint.id,
        "subject": complaint.subject,
        "category": CATEGORY_ZH.get(complaint.category or "", complaint.category or ""),
        "severity": SEVERITY_ZH.get(complaint.severity or "", complaint.severity or ""),
        "handler": complaint.handler or "",
        "source": SOURCE_ZH.get(complaint.source, complaint.source),
        "handle_due": complaint.handle_due.isoformat(),
        "answer_due": complaint.answer_due.isoformat(),
        "link": portal_link(f"/complaints/{complaint.id}", settings=settings, now=now),
    }


def record_action(
    *, session: Session, complaint_id: int, note: str, done: bool, actor: str, now: datetime
) -> Complaint:
    """处理: the handler records an action; `done` ends the handling."""
    complaint = _complaint(session, complaint_id)
    _check(session, complaint, action="handle", actor=actor, now=now)
    if not note.strip():
        raise ComplaintError("note: empty")
    _log(session, complaint, "handle" if done else "action", actor, now, note.strip())
    if done:
        complaint.late = complaint.late or _late(complaint, "handle", now)
        complaint.status = NEXT["handle"]
        complaint.handled_at = now
    session.commit()
    return complaint


def answer_complaint(
    *,
    session: Session,
    complaint_id: int,
    answer: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Complaint:
    """反馈: the answer goes to the member through the outbox; the member confirms it."""
    complaint = _complaint(session, complaint_id)
    _check(session, complaint, action="answer", actor=actor, now=now)
    if not answer.strip():
        raise ComplaintError("answer: empty")
    complaint.answer = answer.strip()
    complaint.late = complaint.late or _late(complaint, "answer", now)
    complaint.status = NEXT["answer"]
    complaint.answered_at = now
    _log(session, complaint, "answer", actor, now, complaint.answer)
    member = session.get(Member, complaint.member_id)
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient=f"member:{member.member_no}",
                template="complaint_answer",
                context={
                    **_context(complaint, settings=settings, now=now),
                    "answer": complaint.answer,
                    "link": portal_link(
                        f"/me/complaints/{complaint.id}", settings=settings, now=now
                    ),
                },
                idem_key=f"complaint:{complaint.id}:answer",
            )
        ],
        now=now,
        settings=settings,
    )
    session.commit()
    return complaint


def confirm_complaint(
    *, session: Session, complaint_id: int, member_no: str, note: str, now: datetime
) -> Complaint:
    """The member confirms the answer: the complaint is closed with them."""
    complaint = _complaint(session, complaint_id)
    member = session.get(Member, complaint.member_id)
    problem = confirm_refusal(
        member_no=member_no,
        complainant=member.member_no if member else None,
        status=str(complaint.status),
    )
    if problem:
        _refuse(
            session,
            action="complaints.confirm",
            subject=f"complaint:{complaint_id}",
            actor=f"member:{member_no}",
            reason=problem,
            now=now,
        )
    complaint.status = ComplaintStatus.closed
    complaint.closed_at, complaint.closed_by = now, f"member:{member_no}"
    _log(session, complaint, "confirm", f"member:{member_no}", now, note)
    session.commit()
    return complaint
