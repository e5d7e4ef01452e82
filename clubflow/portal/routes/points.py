"""Points in the portal: HQ's budget page (/points/budget: the month's issued and redeemed
points, their value against the budget, the open anomaly flags with a review form) and a
member's own ledger (/me/points: date, reason, amount, balance after each line).

The review is `clubflow members points review`'s, bound to the signed-in person.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.calendar import business_date
from domain.models import Member, PointsEntry, Role
from domain.points_earn import reason_label
from tasks.members.points_budget import (
    ReviewRefused,
    budget_month,
    list_anomalies,
    record_review_refusal,
    review_anomaly,
)

router = APIRouter()
BUDGET_ROLES = (Role.campaign_manager, Role.finance)


def _may_see_budget(request: Request, session: Session, viewer: Viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role in BUDGET_ROLES,
        action="points.budget",
        subject="points:budget",
        reason="the points budget is for the campaign manager or finance",
    )


def _budget_page(request: Request, session: Session, *, error: str = "", status_code: int = 200):
    p = portal(request)
    month = budget_month(session=session, month=business_date(p.now()), settings=p.settings)
    return render(
        request,
        "points_budget.html",
        status_code=status_code,
        month=month,
        warn_share=p.settings.points_budget_warn_share,
        flags=list_anomalies(session=session, status="open"),
        error=error,
    )


@router.get("/points/budget")
def budget_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may_see_budget(request, session, viewer)
    audit(request, session, viewer, "points.budget", "points:budget")
    return _budget_page(request, session)


@router.post("/points/anomalies/{flag_id}/review")
def review(
    flag_id: int,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_see_budget(request, session, viewer)
    now = portal(request).now()
    outcome = str(form.get("outcome", ""))
    try:
        review_anomaly(
            session=session,
            flag_id=flag_id,
            outcome=outcome,
            username=viewer.actor,
            note=str(form.get("note", "")).strip(),
            now=now,
        )
    except ReviewRefused as exc:
        record_review_refusal(
            session=session, flag_id=flag_id, username=viewer.actor, reason=str(exc), now=now
        )
        return _budget_page(request, session, error=str(exc), status_code=400)
    audit(request, session, viewer, "points.review", f"anomaly:{flag_id}", detail=outcome)
    return RedirectResponse("/points/budget", status_code=303)


@router.get("/me/points")
def my_points(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if not viewer.is_member:
        return RedirectResponse("/", status_code=303)
    member = session.get(Member, viewer.member_id)
    entries = session.execute(
        select(PointsEntry.occurred_at, PointsEntry.reason, PointsEntry.amount)
        .where(PointsEntry.member_id == member.id)
        .order_by(PointsEntry.occurred_at, PointsEntry.id)
    ).all()
    lines, balance = [], 0
    for at, reason, amount in entries:
        balance += amount
        label = reason_label(reason)
        lines.append({"at": at, "reason": label, "amount": amount, "balance": balance})
    audit(request, session, viewer, "member.points", f"member:{member.member_no}")
    return render(request, "my_points.html", member=member, lines=list(reversed(lines)))
