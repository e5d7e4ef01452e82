"""The weekly revisit list in the portal: a call agent sees their own revisits, the call
supervisor everyone's; each row shows the lead (phone masked) and its history, and the form
that reports the revisit's result (once) as the signed-in person."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.calendar import business_date
from domain.leads_revisit import LABELS, week_of
from domain.models import Role
from domain.models_leads import LeadRevisit
from tasks.audit import record_refusal
from tasks.leads.common import LeadsError

router = APIRouter()
ROLES = (Role.call_agent, Role.call_supervisor)


def _allowed(request: Request, session: Session, viewer: Viewer, action: str, subject: str):
    require(
        request,
        session,
        viewer,
        viewer.role in ROLES,
        action=action,
        subject=subject,
        reason=f"{viewer.actor} 无权查看回访名单 (revisits are the call centre's)",
    )


def _week(request: Request, text: str | None) -> date:
    today = business_date(portal(request).now())
    try:
        return week_of(date.fromisoformat(text)) if text else week_of(today)
    except ValueError:
        return week_of(today)


def _page(request, session, viewer: Viewer, week: date, status_code=200, **extra):
    from tasks.leads.revisit import lead_histories, week_revisits

    mine = viewer.role == Role.call_agent
    rows = week_revisits(session=session, week=week, agent=viewer.username if mine else None)
    return render(
        request,
        "revisits.html",
        status_code=status_code,
        week=week,
        previous=week - timedelta(days=7),
        next=week + timedelta(days=7),
        rows=rows,
        waiting=sum(1 for r in rows if r.waiting),
        histories=lead_histories(session=session, lead_ids=[r.lead_id for r in rows]),
        results=LABELS,
        mine=mine,
        **({"error": "", "notice": ""} | extra),
    )


@router.get("/revisits")
def revisits_page(
    request: Request,
    week_of: str | None = None,
    done: int | None = None,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _allowed(request, session, viewer, "leads.revisits", "revisits")
    week = _week(request, week_of)
    audit(request, session, viewer, "leads.revisits", f"revisits:{week.isoformat()}")
    notice = f"回访 #{done} 的结果已记录" if done else ""
    return _page(request, session, viewer, week, notice=notice)


@router.post("/revisits/{revisit_id}/result")
def record_result(
    revisit_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.leads.revisit import record_revisit_result, revisit_result_refusal

    subject = f"revisit:{revisit_id}"
    _allowed(request, session, viewer, "leads.revisit_result", subject)
    revisit = session.get(LeadRevisit, revisit_id)
    reason = (
        f"回访 #{revisit_id} 不存在 (no such revisit)"
        if revisit is None
        else revisit_result_refusal(session=session, revisit=revisit, actor=viewer.actor)
    )
    require(
        request,
        session,
        viewer,
        reason is None,
        action="leads.revisit_result",
        subject=subject,
        reason=f"{viewer.actor} 不能记录回访 #{revisit_id} 的结果: {reason}",
    )
    week = revisit.week_of
    p = portal(request)
    try:
        recorded = record_revisit_result(
            session=session,
            revisit_id=revisit_id,
            result=str(form.get("result", "")),
            note=str(form.get("note", "")),
            actor=viewer.actor,
            now=p.now(),
            settings=p.settings,
        )
    except LeadsError as exc:
        session.rollback()
        record_refusal(
            session=session,
            action="leads.revisit_result",
            subject=subject,
            actor=viewer.actor,
            reason=str(exc),
            now=p.now(),
        )
        audit(
            request, session, viewer, "leads.revisit_result", subject,
            outcome="refused", detail=str(exc),
        )  # fmt: skip
        return _page(request, session, viewer, week, status_code=409, error=str(exc))
    audit(request, session, viewer, "leads.revisit_result", subject, detail=recorded.line())
    return RedirectResponse(
        f"/revisits?week_of={week.isoformat()}&done={revisit_id}", status_code=303
    )
