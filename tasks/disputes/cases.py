"""Disputes in the store: filed, acknowledged (受理), mediated (调解), settled or litigated (诉讼),
escalated when overdue. Every step is audited; a refusal is recorded and raised as Refused."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.disputes import (
    DISPUTE_KINDS,
    MEDIATION_STEPS,
    NEXT_STATUS,
    code_for,
    dispute_refusal,
    due_after,
    overdue_levels,
)
from domain.models_disputes import Dispute, DisputeEscalation, DisputeStep
from domain.models_portal import PortalAudit
from domain.privacy import mask_text
from tasks.audit import Refused, actor_of, record_refusal
from tasks.outbox import NotificationRequest, queue_notifications


def _audit(*, session: Session, actor: str, action: str, subject: str, now: datetime, detail=""):
    session.add(
        PortalAudit(
            at=now, actor=actor[:80], action=action, subject=subject, detail=mask_text(detail)
        )
    )


def _check(*, session: Session, username: str, action: str, dispute: Dispute | None, now):
    actor = actor_of(session=session, username=username)
    reason = dispute_refusal(
        actor, username=username, action=action, status=dispute.status if dispute else None
    )
    if reason is not None:
        record_refusal(
            session=session,
            action=f"dispute.{action}",
            subject=dispute.code if dispute else "(new dispute)",
            actor=username,
            reason=reason,
            now=now,
        )
        session.commit()  # the refusal stays
        raise Refused(reason)


def get_dispute(*, session: Session, code: str) -> Dispute:
    row = session.execute(select(Dispute).where(Dispute.code == code)).scalar_one_or_none()
    if row is None:
        raise LookupError(f"unknown dispute {code!r}")
    return row


def file_dispute(
    *,
    session: Session,
    username: str,
    kind: str,
    claimant: str,
    respondent: str,
    summary: str,
    now: datetime,
    settings: Settings,
    dealer_code: str | None = None,
    outlet: str = "",
) -> Dispute:
    """File a dispute (parties stored with phones masked); it is due to be acknowledged."""
    _check(session=session, username=username, action="file", dispute=None, now=now)
    if kind not in DISPUTE_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(DISPUTE_KINDS)}")
    if not summary.strip():
        raise ValueError("summary: required")
    day = calendar.business_date(now)
    n = session.execute(
        select(func.count()).select_from(Dispute).where(Dispute.code.like(f"DSP-{day:%Y%m%d}-%"))
    ).scalar_one()
    dispute = Dispute(
        code=code_for("DSP", day, n + 1),
        kind=kind,
        claimant=mask_text(claimant),
        respondent=mask_text(respondent),
        dealer_code=dealer_code or None,
        outlet=outlet,
        summary=mask_text(summary),
        filed_by=username,
        filed_at=now,
        ack_due_at=due_after(now, settings.dispute_ack_working_days),
        agreement="",
        court="",
        case_number="",
    )
    session.add(dispute)
    session.flush()
    _audit(session=session, actor=username, action="dispute.file", subject=dispute.code, now=now)
    # Whoever acknowledges it (HQ) hears of it now, not only when the deadline has passed.
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient="role:campaign_manager",
                template="dispute_filed",
                context={**_context(dispute), "ack_due": f"{dispute.ack_due_at:%Y-%m-%d %H:%M}"},
                idem_key=f"dispute:{dispute.id}:filed",
            )
        ],
        now=now,
        settings=settings,
    )
    return dispute


def acknowledge_dispute(
    *, session: Session, username: str, code: str, now: datetime, settings: Settings
) -> Dispute:
    dispute = get_dispute(session=session, code=code)
    _check(session=session, username=username, action="acknowledge", dispute=dispute, now=now)
    dispute.status = NEXT_STATUS["acknowledge"]
    dispute.acknowledged_by, dispute.acknowledged_at = username, now
    dispute.resolve_due_at = due_after(now, settings.dispute_resolve_working_days)
    _audit(session=session, actor=username, action="dispute.acknowledge", subject=code, now=now)
    session.flush()
    return dispute


def record_mediation(
    *, session: Session, username: str, code: str, kind: str, held_on: date, what: str, now
) -> DisputeStep:
    """A meeting or a proposal of the mediation: who (the actor), when, what."""
    dispute = get_dispute(session=session, code=code)
    _check(session=session, username=username, action="mediate", dispute=dispute, now=now)
    if kind not in MEDIATION_STEPS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(MEDIATION_STEPS)}")
    if not what.strip():
        raise ValueError("what: required")
    step = DisputeStep(
        dispute_id=dispute.id,
        kind=kind,
        held_on=held_on,
        what=mask_text(what),
        recorded_by=username,
        recorded_at=now,
    )
    session.add(step)
    _audit(
        session=session,
        actor=username,
        action=f"dispute.{kind}",
        subject=code,
        now=now,
        detail=what,
    )
    session.flush()
    return step


def settle_dispute(*, session: Session, username: str, code: str, agreement: str, now) -> Dispute:
    dispute = get_dispute(session=session, code=code)
    _check(session=session, username=username, action="settle", dispute=dispute, now=now)
    if not agreement.strip():
        raise ValueError("agreement: required to settle")
    dispute.status = NEXT_STATUS["settle"]
    dispute.agreement = mask_text(agreement)
    dispute.closed_by, dispute.closed_at = username, now
    _audit(session=session, actor=username, action="dispute.settle", subject=code, now=now)
    session.flush()
    return dispute


def litigate_dispute(
    *,
    session: Session,
    username: str,
    code: str,
    court: str,
    case_number: str,
    filed_on: date,
    now: datetime,
    settings: Settings,
) -> Dispute:
    """The dispute goes to court: the case is recorded and HQ legal told at once."""
    dispute = get_dispute(session=session, code=code)
    _check(session=session, username=username, action="litigate", dispute=dispute, now=now)
    if not court.strip() or not case_number.strip():
        raise ValueError("court, case_number: both required for litigation")
    dispute.status = NEXT_STATUS["litigate"]
    dispute.court, dispute.case_number, dispute.case_filed_on = court, case_number, filed_on
    dispute.closed_by, dispute.closed_at = username, now
    _audit(session=session, actor=username, action="dispute.litigate", subject=code, now=now)
    session.flush()
    queue_notifications(
        session=session,
        requests=[
            NotificationRequest(
                recipient="role:legal",
                template="dispute_litigation",
                context={
                    **_context(dispute),
                    "court": court,
                    "case_number": case_number,
                    "filed_on": str(filed_on),
                },
                idem_key=f"dispute:{dispute.id}:litigation",
                urgent=True,
            )
        ],
        now=now,
        settings=settings,
    )
    return dispute


def _context(dispute: Dispute) -> dict:
    return {
        "code": dispute.code,
        "kind": dispute.kind,
        "claimant": dispute.claimant,
        "respondent": dispute.respondent,
        "summary": dispute.summary,
        "status": dispute.status,
    }


def escalate_overdue_disputes(*, session: Session, now: datetime, settings: Settings) -> int:
    """Escalate every overdue step once per level; returns how many escalations are new."""
    new = 0
    open_rows = session.execute(
        select(Dispute).where(Dispute.status.in_(("filed", "mediating"))).order_by(Dispute.id)
    ).scalars()
    for dispute in list(open_rows):
        for level in overdue_levels(
            status=dispute.status,
            ack_due_at=dispute.ack_due_at,
            resolve_due_at=dispute.resolve_due_at,
            now=now,
            level2_after_working_days=settings.dispute_escalate_after_working_days,
        ):
            seen = session.execute(
                select(DisputeEscalation.id).where(
                    DisputeEscalation.dispute_id == dispute.id,
                    DisputeEscalation.step == level.step,
                    DisputeEscalation.level == level.level,
                )
            ).first()
            if seen:
                continue
            session.add(
                DisputeEscalation(
                    dispute_id=dispute.id,
                    step=level.step,
                    level=level.level,
                    escalated_to=level.recipient,
                    escalated_at=now,
                )
            )
            queue_notifications(
                session=session,
                requests=[
                    NotificationRequest(
                        recipient=level.recipient,
                        template="dispute_escalation",
                        context={**_context(dispute), "step": level.step, "level": level.level},
                        idem_key=f"dispute:{dispute.id}:{level.step}:escalate:{level.level}",
                    )
                ],
                now=now,
                settings=settings,
            )
            new += 1
    session.flush()
    return new
