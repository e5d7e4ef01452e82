"""HQ's confirmation of a draft quarter plan: the gate's spec and description, applying a
changed host (through the rotation, as an override with its reason) or changed crossing
dates, the confirmation record, and the confirmed plan the messages are made of.

Data functions take the session (keyword-only); the tasks at the bottom are what the flow
calls.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.gates import GateKind, GateSpec
from domain.models import Role
from domain.models_planning import QuarterPlanRecord, RotationHosting
from domain.models_quarter import QuarterConfirmation
from domain.planning import QuarterPlan
from domain.quarter import QuarterChanges, describe_changes
from domain.regions import region_info
from domain.rotation import Override, Quarter
from tasks.common import data_task
from tasks.outbox import NotificationRequest
from tasks.planning.plans import (
    build_quarter_plan,
    choose_crossing_host,
    load_rotation_history,
    plan_by_month,
)
from tasks.render import render

GATE_KEY = "quarter_confirm"


def confirm_gate_spec(
    *, plan: QuarterPlan, plan_id: int, drafted_at: datetime, settings: Settings
) -> GateSpec:
    """HQ's gate: due `quarter_confirm_working_days` working days after the draft."""
    due_on = calendar.add_working_days(
        calendar.business_date(drafted_at), settings.quarter_confirm_working_days
    )
    return GateSpec(
        subject_type="quarter_plan",
        subject_id=plan_id,
        subject_code=str(plan.quarter),
        subject_title=f"{plan.quarter} 季度计划",
        key=GATE_KEY,
        title="总部确认季度计划",
        kind=GateKind.approval,
        owner_role=Role.campaign_manager,
        due_on=due_on,
        escalate_to="role:campaign_manager",
    )


def confirm_description(plan: QuarterPlan, why: str) -> str:
    """The draft above the form, and what the form may change."""
    draft = render(
        "reports/planning_quarter.md.j2",
        {"plan": plan, "why": why, "ics_path": "", "months": plan_by_month(plan)},
    )
    return (
        draft + "\n\n确认（approve）后发布日历并发出档期通知与邀请函。可改主办区域"
        " `host_region` 和穿越日期 `crossing_starts_on` / `crossing_ends_on`；"
        "有改动时 comment 必须写明原因。"
    )


def confirm_requests(
    *, plan: QuarterPlan, due_on, settings: Settings, now: datetime
) -> list[NotificationRequest]:
    return [
        NotificationRequest(
            recipient="role:campaign_manager",
            template="planning_quarter_confirm",
            context={
                "quarter": str(plan.quarter),
                "host": plan.crossing.region_zh,
                "theme": plan.crossing.theme,
                "starts_on": plan.crossing.starts_on.isoformat(),
                "ends_on": plan.crossing.ends_on.isoformat(),
                "due_on": due_on.isoformat(),
                "command": f"clubflow planning confirm {plan.quarter} --as USER",
                "link": portal_link("/", settings=settings, now=now),
            },
            idem_key=f"plan:{plan.quarter}:confirm:requested",
        )
    ]


def confirm_quarter_plan(
    *,
    session: Session,
    quarter: Quarter,
    gate_id: int | None,
    decider: str,
    changes: QuarterChanges,
    now: datetime,
    settings: Settings,
) -> QuarterConfirmation:
    """Record the confirmation once; a changed host re-chooses the quarter through the
    rotation as an override with the reason, changed dates move the crossing. A replay finds
    the record and changes nothing."""
    existing = session.execute(
        select(QuarterConfirmation).where(QuarterConfirmation.quarter == str(quarter))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    record = session.execute(
        select(QuarterPlanRecord).where(QuarterPlanRecord.quarter == str(quarter))
    ).scalar_one()
    drafted = (record.crossing_region, record.crossing_starts_on, record.crossing_ends_on)
    lines = describe_changes(changes, host=drafted[0], starts_on=drafted[1], ends_on=drafted[2])
    new_host = changes.host_region.strip()
    if new_host and new_host != record.crossing_region:
        session.execute(delete(RotationHosting).where(RotationHosting.quarter == str(quarter)))
        choose_crossing_host(
            session=session,
            quarter=quarter,
            override=Override(region=new_host, reason=changes.reason.strip()),
            decided_by=decider,
            now=now,
        )
    hosting = next(h for h in load_rotation_history(session=session) if h.quarter == quarter)
    plan = build_quarter_plan(session=session, quarter=quarter, hosting=hosting, settings=settings)
    c = plan.crossing
    same_host = c.region == drafted[0]
    starts_on = changes.crossing_starts_on or (drafted[1] if same_host else c.starts_on)
    ends_on = changes.crossing_ends_on or (drafted[2] if same_host else c.ends_on)
    c = dataclasses.replace(c, starts_on=starts_on, ends_on=ends_on)
    record.crossing_region, record.crossing_theme = c.region, c.theme
    record.crossing_month = c.starts_on.month
    record.crossing_starts_on, record.crossing_ends_on = c.starts_on, c.ends_on
    record.crossing_club, record.crossing_activity_code = c.organiser_club, c.activity_code
    row = QuarterConfirmation(
        quarter=str(quarter),
        plan_id=record.id,
        gate_id=gate_id,
        drafted_host=drafted[0],
        host=c.region,
        crossing_starts_on=c.starts_on,
        crossing_ends_on=c.ends_on,
        changes=lines,
        reason=changes.reason.strip() if lines else "",
        confirmed_by=decider,
        confirmed_at=now,
    )
    session.add(row)
    session.flush()
    return row


def load_confirmed_plan(*, session: Session, quarter: Quarter, settings: Settings) -> QuarterPlan:
    """The plan as HQ confirmed it: the rotation's host and the confirmed crossing dates."""
    row = session.execute(
        select(QuarterConfirmation).where(QuarterConfirmation.quarter == str(quarter))
    ).scalar_one()
    hosting = next(h for h in load_rotation_history(session=session) if h.quarter == quarter)
    plan = build_quarter_plan(session=session, quarter=quarter, hosting=hosting, settings=settings)
    crossing = dataclasses.replace(
        plan.crossing, starts_on=row.crossing_starts_on, ends_on=row.crossing_ends_on
    )
    return dataclasses.replace(plan, crossing=crossing)


def read_confirmation(*, session: Session, quarter: Quarter) -> dict:
    row = session.execute(
        select(QuarterConfirmation).where(QuarterConfirmation.quarter == str(quarter))
    ).scalar_one()
    return {
        "confirmed_by": row.confirmed_by,
        "host": region_info(row.host).code,
        "changes": list(row.changes),
        "reason": row.reason,
    }


# ---------------------------------------------------------------- tasks

confirm_quarter_plan_task = data_task(confirm_quarter_plan, retries=2)
load_confirmed_plan_task = data_task(load_confirmed_plan)
read_confirmation_task = data_task(read_confirmation)
