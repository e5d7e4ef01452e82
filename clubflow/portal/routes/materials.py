"""An activity's handbook and operations materials in the portal: the organiser (or the
club's admin) hands in links, HQ or the region's specialist confirms or returns them with a
reason, as `clubflow planning materials submit|decide` do."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.models import Activity
from domain.permissions import Actor
from tasks.outbox import queue_notifications
from tasks.quarter.materials import (
    decide_materials,
    read_materials,
    reviewer_refusal,
    submit_materials,
    submitter_refusal,
)

router = APIRouter()


def _actor(viewer: Viewer) -> Actor:
    return Actor(viewer.actor, viewer.role, viewer.region_code, viewer.club_id)


def _activity(request, session: Session, viewer: Viewer, code: str, action: str) -> Activity:
    activity = session.execute(select(Activity).where(Activity.code == code)).scalar_one_or_none()
    allowed = activity is not None and (
        viewer.username == activity.proposed_by
        or viewer.sees_club(
            club_id=activity.club_id, region_code=activity.region_code, dealer_id=None
        )
    )
    require(
        request,
        session,
        viewer,
        allowed,
        action=action,
        subject=f"activity:{code}",
        reason=f"{viewer.actor} 不能查看此活动的物料 (may not see activity {code})",
    )
    return activity


def _page(request, session, viewer, code: str, *, error: str = "", notice: str = "", status=200):
    try:
        materials = read_materials(session=session, code=code)
        missing = ""
    except LookupError as exc:
        materials, missing = None, str(exc)
    actor = _actor(viewer)
    return render(
        request,
        "materials.html",
        status_code=status,
        code=code,
        materials=materials,
        missing=missing,
        may_submit=materials is not None
        and submitter_refusal(session=session, code=code, actor=actor) is None,
        may_decide=materials is not None
        and reviewer_refusal(session=session, code=code, actor=actor) is None,
        error=error,
        notice=notice,
    )


@router.get("/materials/{code}")
def materials_page(
    code: str,
    request: Request,
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _activity(request, session, viewer, code, "materials.view")
    return _page(request, session, viewer, code)


@router.post("/materials/{code}/submit")
def submit(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _activity(request, session, viewer, code, "materials.submit")
    reason = submitter_refusal(session=session, code=code, actor=_actor(viewer))
    require(
        request,
        session,
        viewer,
        reason is None,
        action="materials.submit",
        subject=f"activity:{code}",
        reason=f"{viewer.actor} 不能提交此活动的物料 ({reason})",
    )
    p = portal(request)
    try:
        view, requests = submit_materials(
            session=session,
            code=code,
            handbook=str(form.get("handbook", "")),
            operations=str(form.get("operations", "")),
            note=str(form.get("note", "")),
            by=viewer.actor,
            now=p.now(),
            settings=p.settings,
        )
    except (LookupError, ValueError) as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "materials.submit",
            f"activity:{code}",
            outcome="failed",
            detail=str(exc),
        )
        return _page(request, session, viewer, code, error=str(exc), status=400)
    queue_notifications(session=session, requests=requests, now=p.now(), settings=p.settings)
    audit(request, session, viewer, "materials.submit", f"activity:{code}", detail=view.status)
    session.commit()
    p.deliver()
    return _page(request, session, viewer, code, notice="已提交，等待确认")


@router.post("/materials/{code}/decide")
def decide(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _activity(request, session, viewer, code, "materials.decide")
    reason = reviewer_refusal(session=session, code=code, actor=_actor(viewer))
    require(
        request,
        session,
        viewer,
        reason is None,
        action="materials.decide",
        subject=f"activity:{code}",
        reason=f"{viewer.actor} 不能确认此活动的物料 ({reason})",
    )
    p = portal(request)
    outcome = str(form.get("outcome", ""))
    try:
        view, requests = decide_materials(
            session=session,
            code=code,
            outcome=outcome,
            reason=str(form.get("reason", "")),
            by=viewer.actor,
            now=p.now(),
            settings=p.settings,
        )
    except (LookupError, ValueError) as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "materials.decide",
            f"activity:{code}",
            outcome="failed",
            detail=str(exc),
        )
        return _page(request, session, viewer, code, error=str(exc), status=400)
    queue_notifications(session=session, requests=requests, now=p.now(), settings=p.settings)
    audit(request, session, viewer, "materials.decide", f"activity:{code}", detail=outcome)
    session.commit()
    p.deliver()
    notice = "已确认" if view.status == "confirmed" else "已退回组织者"
    return _page(request, session, viewer, code, notice=notice)
