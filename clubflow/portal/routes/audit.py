"""HQ's view of the portal audit: every action, who, when, from where; CSV export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from clubflow.portal.audit import audit_csv, audit_rows
from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, render, require, signed_in
from domain.calendar import BUSINESS_TZ

router = APIRouter()


def _rows(request: Request, session: Session, viewer: Viewer, action: str, limit: int):
    require(
        request,
        session,
        viewer,
        viewer.is_hq,
        action=action,
        subject="portal:audit",
        reason=f"{viewer.actor} ({viewer.role}): 审计记录仅总部可见 (the audit is HQ's)",
    )
    q = request.query_params
    return audit_rows(
        session=session,
        actor=q.get("actor", ""),
        action=q.get("action", ""),
        outcome=q.get("outcome", ""),
        limit=limit,
    )


@router.get("/audit")
def audit_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    rows = _rows(request, session, viewer, "audit.view", 200)
    return render(request, "audit.html", rows=rows, filters=dict(request.query_params))


@router.get("/audit.csv")
def audit_export(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    rows = _rows(request, session, viewer, "audit.export", 100_000)
    return Response(
        audit_csv(rows, tz=BUSINESS_TZ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="portal-audit.csv"'},
    )
