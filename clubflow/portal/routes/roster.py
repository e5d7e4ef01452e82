"""The call agents' roster in the portal: the call supervisor sees the week of every agent
and marks days off and night cover (as `clubflow leads roster set` does); an agent sees
their own week, read-only. Peak dates show their night cover against the minimum."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import (
    DB,
    BadForm,
    audit,
    checked_form,
    portal,
    render,
    require,
    signed_in,
)
from domain.calendar import business_date
from domain.models import Role
from tasks.audit import record_refusal
from tasks.leads.common import LeadsError
from tasks.leads.roster import LABELS, STATES, roster_week, set_roster, week_start

router = APIRouter()
STATE_ZH = {"off": "休息", "on": "当班", "night": "夜班（高峰日 24 小时值守）"}


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadForm(f"{what}“{text}”不是日期（YYYY-MM-DD）") from None


def _may_see(request: Request, session: Session, viewer: Viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in (Role.call_supervisor, Role.call_agent),
        action=action,
        subject="roster",
        reason=f"{viewer.actor} 无权查看客服排班 (the roster is the call team's)",
    )


def _page(request: Request, session: Session, viewer: Viewer, day: date, **extra):
    p = portal(request)
    only = None if viewer.role == Role.call_supervisor else viewer.username
    week = roster_week(session=session, week_of=day, settings=p.settings, only=only)
    return render(
        request,
        "roster.html",
        week=week,
        labels=LABELS,
        states=STATES,
        state_zh=STATE_ZH,
        editable=viewer.role == Role.call_supervisor,
        opens=f"{p.settings.leads_service_opens:%H:%M}",
        closes=f"{p.settings.leads_service_closes:%H:%M}",
        previous=(week.days[0] - timedelta(days=7)).isoformat(),
        following=(week.days[0] + timedelta(days=7)).isoformat(),
        **({"notice": "", "error": ""} | extra),
    )


@router.get("/roster")
def roster_page(
    request: Request,
    week_of: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_see(request, session, viewer, "roster.view")
    day = _day(week_of, "周") if week_of else business_date(portal(request).now())
    audit(request, session, viewer, "roster.view", "roster", detail=week_start(day).isoformat())
    notice = request.query_params.get("done", "")
    return _page(request, session, viewer, day, notice=f"已更新：{notice}" if notice else "")


@router.post("/roster")
def set_roster_day(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    agent = str(form.get("agent", "")).strip()
    require(
        request,
        session,
        viewer,
        viewer.role == Role.call_supervisor,
        action="leads.roster",
        subject=f"roster:{agent or '-'}",
        reason=f"{viewer.actor} 不是客服主管，不能修改排班 (only the call supervisor)",
    )
    day = _day(str(form.get("day", "")), "日期")
    state = str(form.get("state", ""))
    if state not in STATES:
        raise BadForm(f"排班状态“{state}”无效（{'、'.join(STATES)}）")
    p = portal(request)
    try:
        set_roster(session=session, agent=agent, days={day: state}, by=viewer.username, now=p.now())
    except LeadsError as exc:
        session.rollback()
        record_refusal(
            session=session,
            action="leads.roster",
            subject=f"roster:{agent}",
            actor=viewer.actor,
            reason=str(exc),
            now=p.now(),
        )
        audit(request, session, viewer, "leads.roster", f"roster:{agent}", outcome="refused",
              detail=str(exc))  # fmt: skip
        return _page(request, session, viewer, day, error=str(exc))
    audit(request, session, viewer, "leads.roster", f"roster:{agent}", detail=f"{day} {state}")
    done = f"{agent} {day.isoformat()} {LABELS[state]}"
    return RedirectResponse(f"/roster?week_of={day.isoformat()}&done={done}", status_code=303)
