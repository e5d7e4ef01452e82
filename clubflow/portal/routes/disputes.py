"""Disputes (纠纷) and emergencies (突发事件) in the portal.

/disputes/new: dealer staff, call agents and HQ file a dispute. /disputes lists the disputes a
viewer may see (HQ and legal all, a specialist their region, dealer staff their dealer's and
their outlets', a filer those they filed), open first with the step due and its deadline;
/disputes/{code} is the timeline and the next step's form: HQ acknowledges (受理), records
the mediation's meetings and proposals (调解), settles with the agreement or goes to court
(诉讼, legal told at once). /incidents/new reports an emergency (HQ and the region's
specialist told at once, whatever the hour); /incidents and /incidents/{code} show the
actions with the responsible person, recorded and closed by the specialists and HQ.

Every step calls the same store function as the CLI, which checks the actor's role and
records a refusal; the page shows the reason.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import (
    DB,
    audit,
    checked_form,
    portal,
    render,
    require,
    signed_in,
    store_step,
)
from domain.disputes import (
    DISPUTE_KINDS,
    FILE_ROLES,
    HANDLE_ROLES,
    HQ_ROLES,
    INCIDENT_KINDS,
    MEDIATION_STEPS,
    REPORT_ROLES,
)
from domain.models import Role
from domain.models_disputes import Incident
from tasks.disputes.views import (
    DisputeLine,
    dispute_lines,
    dispute_timeline,
    incident_actions,
    incidents_for,
)

router = APIRouter()
BAD_INPUT = (ValueError, LookupError)
# Who reads disputes: the filers, HQ and legal, the specialists (their region).
DISPUTE_READERS = (*FILE_ROLES, Role.it, Role.regional_specialist)
INCIDENT_READERS = (*REPORT_ROLES, Role.it)
STATUS_ZH = {
    "filed": "待受理",
    "mediating": "调解中",
    "settled": "已和解",
    "litigation": "已诉讼",
    "open": "处理中",
    "closed": "已关闭",
}
STEP_ZH = {
    "file": "登记",
    "acknowledge": "受理",
    "resolve": "结案",
    "meeting": "调解会谈",
    "proposal": "调解方案",
    "escalate": "逾期升级",
    "settle": "和解",
    "litigate": "诉讼",
    "act": "处置",
    "close": "关闭",
    "report": "上报",
}
KIND_ZH = {
    "customer_dealer": "客户—经销商",
    "customer_outlet": "客户—二网",
    "dealer_outlet": "经销商—二网",
    "accident": "事故",
    "fire": "火灾",
    "storm": "恶劣天气",
    "power_loss": "停电",
    "complaint_storm": "集中投诉",
}
DONE_ZH = {
    "acknowledge": "已受理，进入调解。",
    "mediate": "已记录调解。",
    "settle": "已和解结案。",
    "litigate": "已转诉讼，法务已收到通知。",
    "act": "已记录处置。",
    "close": "已关闭事件。",
}


def _page(request: Request, template: str, values: dict, status_code=200, **extra):
    return render(
        request,
        template,
        status_code=status_code,
        values=values,
        kinds=KIND_ZH,
        dispute_kinds=DISPUTE_KINDS,
        incident_kinds=INCIDENT_KINDS,
        **extra,
    )


def _may(request, session, viewer: Viewer, roles: tuple[str, ...], action: str, subject=""):
    require(
        request,
        session,
        viewer,
        viewer.role in roles,
        action=action,
        subject=subject,
        reason=f"{viewer.actor} 是 {viewer.role}；{action} 只限 {'、'.join(roles)}",
    )


def _username(viewer: Viewer) -> str:
    """The store's actor: the person's username (dealer staff act as themselves)."""
    return viewer.username or viewer.actor


# ---------------------------------------------------------------- disputes


def _sees_dispute(viewer: Viewer, line: DisputeLine) -> bool:
    if viewer.is_hq or viewer.role == Role.legal:
        return True
    if viewer.role == Role.regional_specialist:
        return line.region_code is not None and line.region_code == viewer.region_code
    if line.dispute.filed_by == viewer.username:
        return True
    return (
        viewer.role == Role.dealer
        and viewer.dealer_code is not None
        and line.dealer_code == viewer.dealer_code
    )


def _seen_dispute(request, session, viewer: Viewer, code: str, action: str) -> DisputeLine:
    _may(request, session, viewer, DISPUTE_READERS, action, code)
    lines = dispute_lines(session=session, now=portal(request).now(), code=code)
    if not lines:
        raise HTTPException(status_code=404)
    line = lines[0]
    require(
        request,
        session,
        viewer,
        _sees_dispute(viewer, line),
        action=action,
        subject=code,
        reason=f"{viewer.actor} 看不到纠纷 {code}（不在其经销商或大区）",
    )
    return line


@router.get("/disputes")
def disputes_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may(request, session, viewer, DISPUTE_READERS, "disputes.list", "disputes")
    lines = [
        x
        for x in dispute_lines(session=session, now=portal(request).now())
        if _sees_dispute(viewer, x)
    ]
    audit(request, session, viewer, "disputes.list", "disputes", detail=str(len(lines)))
    return render(
        request,
        "disputes.html",
        kinds=KIND_ZH,
        lines=lines,
        statuses=STATUS_ZH,
        steps=STEP_ZH,
        may_file=viewer.role in FILE_ROLES,
    )


def _dispute_page(request, session, viewer: Viewer, code: str, *, error="", status=200):
    [line] = dispute_lines(session=session, now=portal(request).now(), code=code)
    return render(
        request,
        "dispute.html",
        kinds=KIND_ZH,
        status_code=status,
        line=line,
        d=line.dispute,
        timeline=dispute_timeline(session=session, dispute=line.dispute),
        statuses=STATUS_ZH,
        steps=STEP_ZH,
        mediation_steps=MEDIATION_STEPS,
        may_handle=viewer.role in HQ_ROLES,
        error=error,
        notice=DONE_ZH.get(request.query_params.get("done", ""), "") if not error else "",
        filed_notice=request.query_params.get("done") == "file",
    )


@router.get("/disputes/new")
def dispute_form(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may(request, session, viewer, FILE_ROLES, "dispute.file")
    return _page(request, "dispute_new.html", {})


@router.post("/disputes/new")
def file_dispute_page(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.disputes.cases import file_dispute

    p = portal(request)
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("kind", "claimant", "respondent", "dealer", "outlet", "summary")
    }
    return store_step(
        request,
        session,
        viewer,
        lambda: file_dispute(
            session=session,
            username=_username(viewer),
            kind=values["kind"],
            claimant=values["claimant"],
            respondent=values["respondent"],
            summary=values["summary"],
            dealer_code=values["dealer"] or None,
            outlet=values["outlet"],
            now=p.now(),
            settings=p.settings,
        ),
        action="dispute.file",
        subject="(new dispute)",
        invalid=BAD_INPUT,
        invalid_outcome="rejected",
        page=lambda error: _page(request, "dispute_new.html", values, 400, error=error),
        refused_page=lambda error: _page(
            request, "dispute_new.html", values, 403, error=f"不能提交：{error}"
        ),
        created=lambda row: row.code,
        done=lambda row: RedirectResponse(f"/disputes/{row.code}?done=file", status_code=303),
    )


@router.get("/disputes/{code}")
def dispute_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    _seen_dispute(request, session, viewer, code, "disputes.view")
    audit(request, session, viewer, "disputes.view", code)
    return _dispute_page(request, session, viewer, code)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None


@router.post("/disputes/{code}/{step}")
def dispute_step(
    code: str,
    step: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.disputes import cases

    if step not in ("acknowledge", "mediate", "settle", "litigate"):
        raise HTTPException(status_code=404)
    action = f"dispute.{step}"
    _seen_dispute(request, session, viewer, code, action)
    p = portal(request)
    text = {
        k: str(form.get(k, "")).strip()
        for k in ("kind", "held_on", "what", "agreement", "court", "case_number", "filed_on")
    }
    who = _username(viewer)

    def run():
        if step == "acknowledge":
            return cases.acknowledge_dispute(
                session=session, username=who, code=code, now=p.now(), settings=p.settings
            )
        if step == "mediate":
            return cases.record_mediation(
                session=session,
                username=who,
                code=code,
                kind=text["kind"],
                held_on=_day(text["held_on"], "held_on"),
                what=text["what"],
                now=p.now(),
            )
        if step == "settle":
            return cases.settle_dispute(
                session=session, username=who, code=code, agreement=text["agreement"], now=p.now()
            )
        return cases.litigate_dispute(
            session=session,
            username=who,
            code=code,
            court=text["court"],
            case_number=text["case_number"],
            filed_on=_day(text["filed_on"], "filed_on"),
            now=p.now(),
            settings=p.settings,
        )

    def done(_row):
        if step == "litigate":
            session.commit()  # legal's urgent message is stored before it is sent
            p.deliver()
        return RedirectResponse(f"/disputes/{code}?done={step}", status_code=303)

    return store_step(
        request,
        session,
        viewer,
        run,
        action=action,
        subject=code,
        invalid=BAD_INPUT,
        invalid_outcome="rejected",
        page=lambda error: _dispute_page(request, session, viewer, code, error=error, status=400),
        refused_page=lambda error: _dispute_page(
            request, session, viewer, code, error=f"无权操作：{error}", status=403
        ),
        detail=lambda _row: text["kind"] if step == "mediate" else "",
        done=done,
    )


# ---------------------------------------------------------------- incidents


def _visible_incidents(session: Session, viewer: Viewer) -> list[Incident]:
    if viewer.is_hq or viewer.role == Role.legal:
        return incidents_for(session=session, everything=True)
    return incidents_for(
        session=session,
        region_code=viewer.region_code if viewer.role == Role.regional_specialist else None,
        reporter=viewer.username,
        dealer_id=viewer.dealer_id if viewer.role == Role.dealer else None,
        club_id=viewer.club_id if viewer.role == Role.club_admin else None,
    )


def _seen_incident(request, session, viewer: Viewer, code: str, action: str) -> Incident:
    _may(request, session, viewer, INCIDENT_READERS, action, code)
    from tasks.disputes.incidents import get_incident

    try:
        incident = get_incident(session=session, code=code)
    except LookupError:
        raise HTTPException(status_code=404) from None
    require(
        request,
        session,
        viewer,
        any(i.id == incident.id for i in _visible_incidents(session, viewer)),
        action=action,
        subject=code,
        reason=f"{viewer.actor} 看不到事件 {code}（不在其大区、门店或俱乐部）",
    )
    return incident


@router.get("/incidents")
def incidents_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may(request, session, viewer, INCIDENT_READERS, "incidents.list", "incidents")
    rows = _visible_incidents(session, viewer)
    audit(request, session, viewer, "incidents.list", "incidents", detail=str(len(rows)))
    return render(
        request,
        "incidents.html",
        kinds=KIND_ZH,
        rows=rows,
        statuses=STATUS_ZH,
        may_report=viewer.role in REPORT_ROLES,
    )


def _incident_page(request, session, viewer: Viewer, code: str, *, error="", status=200):
    from tasks.disputes.incidents import get_incident

    incident = get_incident(session=session, code=code)
    done = request.query_params.get("done", "")
    return render(
        request,
        "incident.html",
        kinds=KIND_ZH,
        status_code=status,
        i=incident,
        actions=incident_actions(session=session, incident=incident),
        statuses=STATUS_ZH,
        may_handle=viewer.role in HANDLE_ROLES,
        error=error,
        notice="" if error else DONE_ZH.get(done, ""),
        reported_notice=done == "report" and not error,
    )


@router.get("/incidents/new")
def incident_form(
    request: Request,
    activity: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may(request, session, viewer, REPORT_ROLES, "incident.report")
    return _page(request, "incident_new.html", {"activity": activity})


@router.post("/incidents/new")
def report_incident_page(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.disputes.incidents import report_incident

    p = portal(request)
    values = {
        k: str(form.get(k, "")).strip() for k in ("kind", "activity", "outlet", "place", "what")
    }

    def done(row):
        session.commit()  # the urgent messages are stored before they are sent
        p.deliver()
        return RedirectResponse(f"/incidents/{row.code}?done=report", status_code=303)

    return store_step(
        request,
        session,
        viewer,
        lambda: report_incident(
            session=session,
            username=_username(viewer),
            kind=values["kind"],
            what=values["what"],
            activity_code=values["activity"] or None,
            outlet=values["outlet"],
            place=values["place"],
            now=p.now(),
            settings=p.settings,
        ),
        action="incident.report",
        subject="(new incident)",
        invalid=BAD_INPUT,
        invalid_outcome="rejected",
        page=lambda error: _page(request, "incident_new.html", values, 400, error=error),
        refused_page=lambda error: _page(
            request, "incident_new.html", values, 403, error=f"不能提交：{error}"
        ),
        created=lambda row: row.code,
        done=done,
    )


@router.get("/incidents/{code}")
def incident_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    _seen_incident(request, session, viewer, code, "incidents.view")
    audit(request, session, viewer, "incidents.view", code)
    return _incident_page(request, session, viewer, code)


@router.post("/incidents/{code}/{step}")
def incident_step(
    code: str,
    step: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.disputes.incidents import close_incident, record_incident_action

    if step not in ("act", "close"):
        raise HTTPException(status_code=404)
    action = f"incident.{step}"
    _seen_incident(request, session, viewer, code, action)
    p = portal(request)
    text = {
        k: str(form.get(k, "")).strip() for k in ("action", "responsible", "recovery", "lessons")
    }

    def run():
        if step == "act":
            return record_incident_action(
                session=session,
                username=_username(viewer),
                code=code,
                action=text["action"],
                responsible=text["responsible"],
                now=p.now(),
            )
        return close_incident(
            session=session,
            username=_username(viewer),
            code=code,
            recovery=text["recovery"],
            lessons=text["lessons"],
            now=p.now(),
        )

    return store_step(
        request,
        session,
        viewer,
        run,
        action=action,
        subject=code,
        invalid=BAD_INPUT,
        invalid_outcome="rejected",
        page=lambda error: _incident_page(request, session, viewer, code, error=error, status=400),
        refused_page=lambda error: _incident_page(
            request, session, viewer, code, error=f"无权操作：{error}", status=403
        ),
        detail=lambda _row: text["responsible"] if step == "act" else "",
        done=lambda _row: RedirectResponse(f"/incidents/{code}?done={step}", status_code=303),
    )
