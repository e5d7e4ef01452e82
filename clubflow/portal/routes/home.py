"""My tasks: the same inbox as `clubflow inbox`, overdue first, each with its page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, portal, render, signed_in
from domain.calendar import business_date
from tasks.gates.inbox import waiting_on

router = APIRouter()


@router.get("/")
def my_tasks(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if viewer.is_member:
        return RedirectResponse("/me", status_code=303)
    today = business_date(portal(request).now())
    items = waiting_on(session=session, username=viewer.username, today=today)
    return render(request, "tasks.html", items=items)


@router.get("/healthz")
def health() -> dict:
    return {"ok": True}
