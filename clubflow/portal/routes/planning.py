"""Monthly plans in the portal: a club admin sees their club's open slots (with due dates)
and submitted plans, and submits a slot's plan as the `clubflow plan submit` command does."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.models import Role
from domain.models_planning import ClubSlot, MonthlyPlanSubmission
from domain.planning import CLUB_CLASSES, MonthlyPlan
from tasks.audit import record_refusal
from tasks.planning.hooks import open_slots

router = APIRouter()
FIELDS = (
    "title",
    "activity_class",
    "theme",
    "starts_on",
    "ends_on",
    "place",
    "expected_participants",
    "budget",
    "subsidy_requested",
)
FIELD_ZH = {
    "title": "活动名称",
    "activity_class": "活动类别",
    "theme": "主题",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "place": "地点",
    "expected_participants": "预计人数",
    "budget": "预算",
    "subsidy_requested": "申请补贴",
}


def _club_admin(request: Request, session: Session, viewer: Viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role == Role.club_admin and viewer.club_id is not None,
        action=action,
        subject=f"club:{viewer.club_code or '-'}",
        reason=f"{viewer.actor} 不是俱乐部管理员，不能提报月度计划 (not a club admin)",
    )


@router.get("/plans")
def plans_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _club_admin(request, session, viewer, "plans.list")
    submitted = list(
        session.execute(
            select(MonthlyPlanSubmission, ClubSlot.month)
            .join(ClubSlot, ClubSlot.id == MonthlyPlanSubmission.slot_id)
            .where(MonthlyPlanSubmission.club_id == viewer.club_id)
            .order_by(ClubSlot.month.desc())
        ).all()
    )
    done = request.query_params.get("done", "")
    notice = next(
        (f"已提报：{s.title}（{month:%Y-%m}）" for s, month in submitted if str(s.id) == done), ""
    )
    audit(request, session, viewer, "plans.list", f"club:{viewer.club_code}")
    return render(
        request,
        "plans.html",
        slots=open_slots(session=session, club_id=viewer.club_id),
        submitted=submitted,
        notice=notice,
    )


def _form_page(request, session, viewer: Viewer, values: dict, error: str = "", status=200):
    return render(
        request,
        "plan_new.html",
        status_code=status,
        slots=open_slots(session=session, club_id=viewer.club_id),
        classes=CLUB_CLASSES,
        values=values,
        error=error,
    )


@router.get("/plans/new")
def new_plan_page(
    request: Request,
    month: str = "",
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _club_admin(request, session, viewer, "plans.new")
    values = {name: "" for name in FIELDS}
    slots = open_slots(session=session, club_id=viewer.club_id)
    slot = next((s for s in slots if f"{s.month:%Y-%m}" == month), None)
    if slot is not None:  # the slot the link named: its theme and month filled in
        values.update(theme=slot.theme, starts_on=slot.month.isoformat())
    return _form_page(request, session, viewer, values)


def parse_budget(text: str) -> list[dict]:
    """One item a line, `项目 金额` (space, comma or colon between); blank lines skipped."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        found = re.fullmatch(r"(.+?)[\s,，:：]+(-?\d+(?:\.\d+)?)", line)
        if found is None:
            raise ValueError(f"预算第 {number} 行“{line}”应为“项目 金额”，例如“场地 800”")
        items.append({"item": found.group(1).strip(), "amount": float(found.group(2))})
    return items


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        parts.append(f"{FIELD_ZH.get(name, name)}：{error['msg']}")
    return "；".join(parts)


@router.post("/plans/new")
def submit_plan(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from tasks.planning.submissions import SubmissionError, submit_monthly_plan

    _club_admin(request, session, viewer, "plans.submit")
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    subject = f"club:{viewer.club_code}"
    now = portal(request).now()
    try:
        data = {k: v for k, v in values.items() if v != "" and k != "budget"}
        data["budget"] = parse_budget(values["budget"])
        plan = MonthlyPlan.model_validate(data)
    except (ValueError, ValidationError) as exc:
        message = _validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        audit(request, session, viewer, "plans.submit", subject, outcome="failed", detail=message)
        return _form_page(request, session, viewer, values, error=message, status=400)
    try:
        row = submit_monthly_plan(
            session=session,
            club_code=viewer.club_code,
            plan=plan,
            submitted_by=viewer.username,
            now=now,
        )
    except SubmissionError as exc:
        session.rollback()
        record_refusal(
            session=session,
            action="plans.submit",
            subject=subject,
            actor=viewer.actor,
            reason=str(exc),
            now=now,
        )
        audit(request, session, viewer, "plans.submit", subject, outcome="refused", detail=str(exc))
        return _form_page(request, session, viewer, values, error=str(exc), status=409)
    audit(
        request,
        session,
        viewer,
        "plans.submit",
        subject,
        detail=f"#{row.id} {row.title} ({row.starts_on})",
    )
    return RedirectResponse(f"/plans?done={row.id}", status_code=303)
