"""/disputes/new (dealer staff, call agents, HQ file a dispute) and /incidents/new (report an
emergency at an activity or an outlet; reachable from the activity page). The reporter is the
signed-in person; HQ and the region's specialist are told at once, whatever the hour."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.disputes import DISPUTE_KINDS, FILE_ROLES, INCIDENT_KINDS, REPORT_ROLES
from tasks.audit import Refused

router = APIRouter()


def _page(request: Request, template: str, values: dict, status_code=200, **extra):
    return render(
        request,
        template,
        status_code=status_code,
        values=values,
        dispute_kinds=DISPUTE_KINDS,
        incident_kinds=INCIDENT_KINDS,
        **extra,
    )


def _may(request, session, viewer: Viewer, roles: tuple[str, ...], action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in roles,
        action=action,
        subject="",
        reason=f"{viewer.actor} 是 {viewer.role}；{action} 只限 {'、'.join(roles)}",
    )


def _submit(request, session, viewer, action: str, template: str, form: dict, step):
    try:
        row = step()
    except Refused as exc:
        audit(request, session, viewer, action, outcome="refused", detail=str(exc))
        return _page(request, template, form, status_code=403, error=f"不能提交：{exc}")
    except (ValueError, LookupError) as exc:
        session.rollback()
        audit(request, session, viewer, action, outcome="rejected", detail=str(exc))
        return _page(request, template, form, status_code=409, error=str(exc))
    audit(request, session, viewer, action, row.code)
    return _page(request, template, {}, notice=f"已提交：{row.code}")


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
    return _submit(
        request,
        session,
        viewer,
        "dispute.file",
        "dispute_new.html",
        values,
        lambda: file_dispute(
            session=session,
            username=viewer.username or viewer.actor,
            kind=values["kind"],
            claimant=values["claimant"],
            respondent=values["respondent"],
            summary=values["summary"],
            dealer_code=values["dealer"] or None,
            outlet=values["outlet"],
            now=p.now(),
            settings=p.settings,
        ),
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
    response = _submit(
        request,
        session,
        viewer,
        "incident.report",
        "incident_new.html",
        values,
        lambda: report_incident(
            session=session,
            username=viewer.username or viewer.actor,
            kind=values["kind"],
            what=values["what"],
            activity_code=values["activity"] or None,
            outlet=values["outlet"],
            place=values["place"],
            now=p.now(),
            settings=p.settings,
        ),
    )
    if response.status_code == 200:
        session.commit()  # the urgent messages are stored before they are sent
        p.deliver()
    return response
