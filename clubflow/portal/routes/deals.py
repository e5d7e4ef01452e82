"""A lead's deal on its page (/leads/<id>): the steps so far with their dates, and for the
dealer that accepted it (or HQ) a form to record the next one. The lead page itself is
routes/leads.py; this adds the follow-up form's action."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, require, signed_in
from domain.deals import LOST_REASONS, follow_up_refusal
from domain.instants import parse_instant
from domain.models import Lead
from domain.permissions import Actor
from tasks.leads.common import LeadsError
from tasks.leads.deals import accepted_round, deal_view

router = APIRouter()


def _refusal(session: Session, viewer: Viewer, lead_id: int) -> str | None:
    accepted = accepted_round(session=session, lead_id=lead_id)
    return follow_up_refusal(
        Actor(viewer.actor, str(viewer.role), viewer.region_code, dealer_id=viewer.dealer_id),
        username=viewer.actor,
        accepted_dealer_id=accepted.dealer_id if accepted else None,
        lead_id=lead_id,
    )


def deal_context(session: Session, viewer: Viewer, lead: Lead) -> dict:
    """What the lead page shows of the deal: the steps, and the form when the viewer may
    record (and the deal is still open)."""
    view = deal_view(session=session, lead_id=lead.id)
    return {
        "deal": view,
        "may_record": bool(view.next_stages) and _refusal(session, viewer, lead.id) is None,
        "lost_reasons": LOST_REASONS,
    }


@router.post("/leads/{lead_id}/follow-up")
def record_lead_follow_up(
    lead_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from clubflow.portal.routes.leads import _lead, _page
    from tasks.leads.deals import record_follow_up

    lead, rounds = _lead(request, session, viewer, lead_id, "leads.follow_up")
    problem = _refusal(session, viewer, lead_id)
    require(
        request,
        session,
        viewer,
        problem is None,
        action="leads.follow_up",
        subject=f"lead:{lead_id}",
        reason=f"{viewer.actor} 不能记录线索 #{lead_id} 的跟进 ({problem})",
    )
    p = portal(request)
    stage = str(form.get("stage", "")).strip()
    try:
        at_text = str(form.get("at", "")).strip()
        try:
            at = parse_instant(at_text) if at_text else p.now()
        except ValueError:
            raise LeadsError(f"lead {lead_id}: at: not a time: {at_text!r}") from None
        record_follow_up(
            session=session,
            lead_id=lead_id,
            stage=stage,
            at=at,
            actor=viewer.username or viewer.actor,  # dealer staff act for their dealer
            now=p.now(),
            reason=str(form.get("reason", "")).strip() or None,
            note=str(form.get("note", "")),
        )
    except LeadsError as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "leads.follow_up",
            f"lead:{lead_id}",
            outcome="rejected",
            detail=str(exc),
        )
        return _page(request, session, viewer, lead, rounds, status_code=409, error=str(exc))
    audit(request, session, viewer, "leads.follow_up", f"lead:{lead_id}", detail=stage)
    return RedirectResponse(f"/leads/{lead_id}?done=follow_up", status_code=303)
