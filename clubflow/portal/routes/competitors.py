"""Competitor tracking in the portal: the operator (agency) adds the month's competitor
activities and submits the monthly report; HQ reads them. The same data functions as
`clubflow planning competitor add|submit`."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain import calendar
from domain.models import Role
from domain.quarter import CompetitorEntry, competitor_report_due_on, month_of, parse_month
from domain.regions import REGIONS
from tasks.outbox import queue_notifications
from tasks.quarter.competitors import (
    CompetitorError,
    add_competitor_entries,
    entry_rows,
    month_entries,
    report_of,
    submit_competitor_report,
)

router = APIRouter()
FIELDS = ("brand", "activity_type", "features", "region", "starts_on", "ends_on", "assessment")


def _may(request, session, viewer: Viewer, action: str, *, write: bool) -> None:
    allowed = viewer.role == Role.agency or (not write and viewer.is_hq)
    require(
        request,
        session,
        viewer,
        allowed,
        action=action,
        subject="competitors",
        reason=(
            f"{viewer.actor} 不能{'记录' if write else '查看'}竞品活动 "
            f"({'the operator (agency) records them' if write else 'operator and HQ only'})"
        ),
    )


def _month(request: Request, value: str) -> date:
    """The month asked for; this business month when none (or a bad one) is given."""
    try:
        if value:
            return parse_month(value)
    except ValueError:
        pass
    return month_of(calendar.business_date(portal(request).now()))


def _page(request, session, viewer, month: date, *, values=None, error="", notice="", status=200):
    report = report_of(session=session, month=month)
    return render(
        request,
        "competitors.html",
        status_code=status,
        month=f"{month:%Y-%m}",
        due_on=competitor_report_due_on(month, is_working_day=calendar.is_working_day),
        entries=entry_rows(month_entries(session=session, month=month)),
        report=report,
        may_write=viewer.role == Role.agency,
        brands=portal(request).settings.competitor_brands,
        regions=REGIONS,
        values=values or {},
        error=error,
        notice=notice,
    )


@router.get("/competitors")
def competitors_page(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may(request, session, viewer, "competitors.view", write=False)
    audit(request, session, viewer, "competitors.view", f"competitors:{month}")
    return _page(request, session, viewer, _month(request, month))


@router.post("/competitors/add")
def add_entry(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may(request, session, viewer, "competitors.add", write=True)
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    p = portal(request)
    try:
        entry = CompetitorEntry.model_validate({k: v for k, v in values.items() if v != ""})
        add_competitor_entries(
            session=session, entries=[entry], by=viewer.actor, now=p.now(), settings=p.settings
        )
    except (ValidationError, CompetitorError) as exc:
        message = (
            "；".join(f"{e['loc'][0]}：{e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "competitors.add",
            "competitors",
            outcome="failed",
            detail=message,
        )
        month = _month(request, values["starts_on"][:7])
        return _page(request, session, viewer, month, values=values, error=message, status=400)
    audit(
        request,
        session,
        viewer,
        "competitors.add",
        "competitors",
        detail=f"{entry.brand} {entry.activity_type} {entry.region} {entry.starts_on}",
    )
    return RedirectResponse(f"/competitors?month={entry.month():%Y-%m}", status_code=303)


@router.post("/competitors/submit")
def submit_report(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may(request, session, viewer, "competitors.submit", write=True)
    p = portal(request)
    month = _month(request, str(form.get("month", "")))
    row, requests = submit_competitor_report(
        session=session, month=month, by=viewer.actor, now=p.now(), settings=p.settings
    )
    queue_notifications(session=session, requests=requests, now=p.now(), settings=p.settings)
    audit(
        request,
        session,
        viewer,
        "competitors.submit",
        f"competitors:{month:%Y-%m}",
        detail=f"{row.entries} entries",
    )
    session.commit()
    p.deliver()
    return _page(
        request, session, viewer, month, notice=f"{month:%Y-%m} 竞品月报已提交（{row.entries} 条）"
    )
