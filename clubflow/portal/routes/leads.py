"""Leads in the portal: dealer staff see the leads handed to their dealer and accept or return
them; call agents their open leads; the call supervisor and HQ all; a specialist the leads
handed to their region. Phones are always masked here (the dealer's message carries it)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.models import CallAttempt, Dealer, Lead, LeadStatus, Person, Role
from domain.models_leads import LeadHandoff
from tasks.audit import record_refusal
from tasks.leads.common import LeadsError

router = APIRouter()
PAGE_SIZE = 50
ALL_LEADS = (Role.call_supervisor, Role.campaign_manager, Role.it)
DONE = {
    "accepted": "已确认接收此线索",
    "returned": "已退回，线索已转给下一位接收人",
    "follow_up": "已记录跟进",
}


def _person_id(session: Session, viewer: Viewer) -> int | None:
    return session.execute(
        select(Person.id).where(Person.username == viewer.username)
    ).scalar_one_or_none()


def _dealer_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Dealer.id, Dealer.code)).all())


@router.get("/leads")
def leads_page(
    request: Request,
    page: int = 1,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    role = viewer.role
    require(
        request,
        session,
        viewer,
        role in (Role.dealer, Role.call_agent, Role.regional_specialist, *ALL_LEADS)
        and (role != Role.dealer or viewer.dealer_id is not None),
        action="leads.list",
        subject="leads",
        reason=f"{viewer.actor} 无权查看线索 (may not see leads)",
    )
    page = max(page, 1)
    context: dict = {"kind": str(role), "page": page, "pages": 1, "rows": []}
    if role == Role.dealer:
        # The dealer's open rounds and the leads it accepted (newest first).
        rows = session.execute(
            select(LeadHandoff, Lead)
            .join(Lead, Lead.id == LeadHandoff.lead_id)
            .where(LeadHandoff.dealer_id == viewer.dealer_id)
            .where(LeadHandoff.accepted_at.is_not(None) | LeadHandoff.bounced_at.is_(None))
            .order_by(LeadHandoff.accepted_at.is_not(None), LeadHandoff.due_at.desc())
        ).all()
        context["rows"] = [(h, lead) for h, lead in rows]
    elif role == Role.call_agent:
        rows = session.execute(
            select(Lead)
            .where(Lead.agent_id == _person_id(session, viewer), Lead.status == LeadStatus.open)
            .order_by(Lead.next_call_due, Lead.id)
        ).scalars()
        context["rows"] = list(rows)
    elif role == Role.regional_specialist:
        rows = session.execute(
            select(LeadHandoff, Lead)
            .join(Lead, Lead.id == LeadHandoff.lead_id)
            .where(LeadHandoff.recipient == f"role:regional_specialist:{viewer.region_code}")
            .order_by(LeadHandoff.handed_at.desc(), Lead.id)
        ).all()
        context["rows"] = [(h, lead) for h, lead in rows]
    else:
        total = session.execute(select(func.count()).select_from(Lead)).scalar_one()
        context["pages"] = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        context["total"] = total
        context["rows"] = list(
            session.execute(
                select(Lead)
                .order_by(Lead.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            ).scalars()
        )
    audit(request, session, viewer, "leads.list", "leads", detail=f"page {page}")
    return render(request, "leads.html", dealers=_dealer_codes(session), **context)


def _lead(request: Request, session: Session, viewer: Viewer, lead_id: int, action: str):
    """The lead and its rounds, once the viewer may see it (refused and recorded if not)."""
    lead = session.get(Lead, lead_id)
    rounds = list(
        session.execute(
            select(LeadHandoff).where(LeadHandoff.lead_id == lead_id).order_by(LeadHandoff.round)
        ).scalars()
    )
    may_see = lead is not None and (
        viewer.role in ALL_LEADS
        or (viewer.role == Role.regional_specialist and lead.region_code == viewer.region_code)
        or (viewer.role == Role.call_agent and lead.agent_id == _person_id(session, viewer))
        or (
            viewer.role == Role.dealer
            and viewer.dealer_id is not None
            and any(r.dealer_id == viewer.dealer_id for r in rounds)
        )
    )
    require(
        request,
        session,
        viewer,
        may_see,
        action=action,
        subject=f"lead:{lead_id}",
        reason=f"{viewer.actor} 不能查看线索 #{lead_id} (may not see lead {lead_id})",
    )
    return lead, rounds


def _page(request, session, viewer: Viewer, lead: Lead, rounds, status_code=200, **extra):
    from clubflow.portal.routes.deals import deal_context  # the deal's steps and form

    current = rounds[-1] if rounds else None
    mine = (
        current is not None
        and viewer.role == Role.dealer
        and current.recipient == f"dealer:{viewer.dealer_code}"
        and current.accepted_at is None
        and current.bounced_at is None
    )
    calls = list(
        session.execute(
            select(CallAttempt).where(CallAttempt.lead_id == lead.id).order_by(CallAttempt.call_no)
        ).scalars()
    )
    late = mine and current.due_at is not None and current.due_at < portal(request).now()
    return render(
        request,
        "lead.html",
        status_code=status_code,
        lead=lead,
        rounds=rounds,
        calls=calls,
        current=current,
        may_act=mine and not late,
        late=late,
        dealers=_dealer_codes(session),
        **deal_context(session, viewer, lead),
        **({"error": "", "notice": "", "reason": ""} | extra),
    )


@router.get("/leads/{lead_id}")
def lead_page(
    lead_id: int,
    request: Request,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    lead, rounds = _lead(request, session, viewer, lead_id, "leads.view")
    audit(request, session, viewer, "leads.view", f"lead:{lead_id}")
    notice = DONE.get(request.query_params.get("done", ""), "")
    return _page(request, session, viewer, lead, rounds, notice=notice)


def _refused(request, session, viewer: Viewer, action: str, lead: Lead, exc: Exception, **extra):
    """A refused accept or return: one line in the refusal table and the audit, and the page
    again with the reason (nothing was changed)."""
    subject = f"lead:{lead.id}"
    session.rollback()
    record_refusal(
        session=session,
        action=action,
        subject=subject,
        actor=viewer.actor,
        reason=str(exc),
        now=portal(request).now(),
    )
    audit(request, session, viewer, action, subject, outcome="refused", detail=str(exc))
    rounds = list(
        session.execute(
            select(LeadHandoff).where(LeadHandoff.lead_id == lead.id).order_by(LeadHandoff.round)
        ).scalars()
    )
    return _page(request, session, viewer, lead, rounds, status_code=409, error=str(exc), **extra)


@router.post("/leads/{lead_id}/accept")
def accept_lead(
    lead_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.leads.handoff import accept_handoff

    lead, _rounds = _lead(request, session, viewer, lead_id, "leads.accept")
    try:
        accept_handoff(
            session=session,
            lead_id=lead_id,
            dealer_code=viewer.dealer_code or viewer.actor,
            now=portal(request).now(),
        )
    except LeadsError as exc:
        return _refused(request, session, viewer, "leads.accept", lead, exc)
    audit(request, session, viewer, "leads.accept", f"lead:{lead_id}", detail=viewer.actor)
    return RedirectResponse(f"/leads/{lead_id}?done=accepted", status_code=303)


@router.post("/leads/{lead_id}/return")
def return_lead(
    lead_id: int,
    request: Request,
    background: BackgroundTasks,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.leads.common import optional_channels
    from tasks.leads.handoff import return_handoff

    lead, _rounds = _lead(request, session, viewer, lead_id, "leads.return")
    reason = str(form.get("reason", "")).strip()
    p = portal(request)
    try:
        new = return_handoff(
            session=session,
            lead_id=lead_id,
            dealer_code=viewer.dealer_code or viewer.actor,
            reason=reason,
            now=p.now(),
            settings=p.settings,
            channels=optional_channels(),
        )
    except LeadsError as exc:
        return _refused(request, session, viewer, "leads.return", lead, exc, reason=reason)
    audit(
        request,
        session,
        viewer,
        "leads.return",
        f"lead:{lead_id}",
        detail=f"{reason} → round {new.round} {new.recipient}",
    )
    session.commit()  # the new round and its message are stored before the delivery
    background.add_task(p.deliver)  # the next dealer is told at once (the message is urgent)
    return RedirectResponse(f"/leads/{lead_id}?done=returned", status_code=303)
