"""The quarter cadence's dated steps (run by the hourly sweep) and its "my tasks" items:
materials reminders and escalations, the preparation notice, the monthly competitor report's
reminder and escalation.

Each step does what is due by `today` and not yet done; a level is sent once (its
idempotency key is checked here, so the sweep's artifact lists only what it did).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain import calendar
from domain.gates import InboxItem
from domain.models import Activity, Notification, Person, Role
from domain.models_quarter import ActivityMaterials
from domain.quarter import MaterialStatus, competitor_report_due_on, month_of
from tasks.gates.dated_steps import StepRun, dated_step
from tasks.gates.inbox import inbox_source
from tasks.outbox import NotificationRequest
from tasks.quarter.competitors import month_entries, report_of
from tasks.quarter.materials import ensure_materials, materials_link, materials_waiting_on


def _unsent(session: Session, requests: list[NotificationRequest]) -> list[NotificationRequest]:
    if not requests:
        return []
    sent = set(
        session.execute(
            select(Notification.idem_key).where(
                Notification.idem_key.in_([r.idem_key for r in requests])
            )
        ).scalars()
    )
    return [r for r in requests if r.idem_key not in sent]


def materials_levels(row: ActivityMaterials, *, settings: Settings) -> list[tuple[str, str, date]]:
    """(level, template, day it is due) of a materials record."""
    return [
        (
            "reminder",
            "quarter_materials_reminder",
            calendar.add_working_days(row.due_on, -settings.materials_reminder_working_days)
            if settings.materials_reminder_working_days
            else row.due_on,
        ),
        (
            "escalation",
            "quarter_materials_escalation",
            calendar.add_working_days(row.due_on, settings.materials_escalate_after_working_days),
        ),
        (
            "preparation",
            "quarter_preparation",
            calendar.add_working_days(row.preparation_on, -settings.preparation_notice_working_days)
            if settings.preparation_notice_working_days
            else row.preparation_on,
        ),
    ]


@dated_step("quarter-materials")
def materials_ladder(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    """Materials records for coming class A/B/C activities; the organiser's reminder before
    the due date, HQ's escalation after it, and the preparation notice."""
    ensure_materials(session=session, today=today, settings=settings)
    pairs = session.execute(
        select(Activity, ActivityMaterials)
        .join(ActivityMaterials, ActivityMaterials.activity_id == Activity.id)
        .where(
            Activity.status.in_(("approved", "announced")),
            Activity.starts_on >= today,
        )
    ).all()
    runs = []
    for activity, row in pairs:
        context = {
            "code": activity.code,
            "title": activity.title,
            "starts_on": activity.starts_on.isoformat(),
            "due_on": row.due_on.isoformat(),
            "preparation_on": row.preparation_on.isoformat(),
            "status": row.status,
            "link": materials_link(activity.code, settings=settings, now=now),
        }
        requests = []
        for level, template, day in materials_levels(row, settings=settings):
            if today < day:
                continue
            if level == "reminder" and row.status != MaterialStatus.due:
                continue  # handed in (a returned one is the reviewer's message): no reminder
            if level == "escalation" and row.status == MaterialStatus.confirmed:
                continue
            organiser = f"person:{activity.proposed_by}"
            recipient = "role:campaign_manager" if level == "escalation" else organiser
            requests.append(
                NotificationRequest(
                    recipient=recipient,
                    template=template,
                    context=context,
                    idem_key=f"activity:{activity.id}:materials:{level}",
                    urgent=level == "escalation",
                )
            )
        requests = _unsent(session, requests)
        if requests:
            runs.append(
                StepRun(
                    "quarter-materials",
                    f"activity:{activity.code}",
                    ", ".join(r.idem_key.rsplit(":", 1)[1] for r in requests),
                    requests,
                )
            )
    return runs


def competitor_levels(month: date, *, settings: Settings) -> list[tuple[str, str, str, date]]:
    """(level, template, recipient, day) of a month's competitor report."""
    due_on = competitor_report_due_on(month, is_working_day=calendar.is_working_day)
    remind_on = (
        calendar.add_working_days(due_on, -settings.competitor_report_reminder_working_days)
        if settings.competitor_report_reminder_working_days
        else due_on
    )
    escalate_on = calendar.add_working_days(
        due_on, settings.competitor_report_escalate_after_working_days
    )
    return [
        ("reminder", "quarter_competitor_reminder", "role:agency", remind_on),
        ("escalation", "quarter_competitor_escalation", "role:campaign_manager", escalate_on),
    ]


@dated_step("quarter-competitor-report")
def competitor_report_ladder(
    *, session: Session, now: datetime, today: date, settings: Settings
) -> list[StepRun]:
    """This month's and last month's report, while not submitted: the operator's reminder
    before the last working day, HQ's escalation after it."""
    this = month_of(today)
    last = month_of(this - timedelta(days=1))
    runs = []
    for month in (last, this):
        if report_of(session=session, month=month) is not None:
            continue
        due_on = competitor_report_due_on(month, is_working_day=calendar.is_working_day)
        context = {
            "month": f"{month:%Y-%m}",
            "due_on": due_on.isoformat(),
            "entries": len(month_entries(session=session, month=month)),
            "link": portal_link(f"/competitors?month={month:%Y-%m}", settings=settings, now=now),
        }
        requests = _unsent(
            session,
            [
                NotificationRequest(
                    recipient=recipient,
                    template=template,
                    context=context,
                    idem_key=f"competitors:{month:%Y-%m}:report:{level}",
                    urgent=level == "escalation",
                )
                for level, template, recipient, day in competitor_levels(month, settings=settings)
                if today >= day
            ],
        )
        if requests:
            runs.append(
                StepRun(
                    "quarter-competitor-report",
                    f"competitors:{month:%Y-%m}",
                    ", ".join(r.idem_key.rsplit(":", 1)[1] for r in requests),
                    requests,
                )
            )
    return runs


@inbox_source("quarter-materials")
def materials_due(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    """Materials to hand in (the organiser) or to confirm (HQ, the regional specialist), and
    the preparation that starts soon."""
    items = []
    for m in materials_waiting_on(session=session, person=person):
        if m.starts_on < today:
            continue
        if m.status == MaterialStatus.submitted:
            title = f"确认活动物料：{m.title}（{m.starts_on}）"
            command = f"clubflow planning materials decide {m.code} confirm --as {person.username}"
        else:
            title = f"提交活动手册与运营物料：{m.title}（{m.starts_on}）" + (
                f" · 已退回：{m.return_reason}" if m.status == MaterialStatus.returned else ""
            )
            command = (
                f"clubflow planning materials submit {m.code} --handbook URL --operations URL "
                f"--as {person.username}"
            )
        items.append(
            InboxItem(
                kind="materials",
                subject=f"activity:{m.code}",
                title=title,
                due_on=m.due_on,
                overdue=m.due_on < today,
                command=command,
                link=f"/materials/{m.code}",
            )
        )
        if m.organiser == person.username and m.preparation_on - timedelta(weeks=1) <= today:
            items.append(
                InboxItem(
                    kind="preparation",
                    subject=f"activity:{m.code}",
                    title=f"开始筹备：{m.title}（{m.starts_on} 开始，至少提前两周）",
                    due_on=m.preparation_on,
                    overdue=m.preparation_on < today,
                    link=f"/materials/{m.code}",
                )
            )
    return items


@inbox_source("quarter-competitor-report")
def competitor_report_due(*, session: Session, person: Person, today: date) -> list[InboxItem]:
    if person.role != Role.agency:
        return []
    month = month_of(today)
    if report_of(session=session, month=month) is not None:
        return []
    due_on = competitor_report_due_on(month, is_working_day=calendar.is_working_day)
    return [
        InboxItem(
            kind="competitors",
            subject=f"competitors:{month:%Y-%m}",
            title=f"提交 {month:%Y-%m} 竞品活动月报",
            due_on=due_on,
            overdue=due_on < today,
            command=f"clubflow planning competitor submit {month:%Y-%m} --as {person.username}",
            link=f"/competitors?month={month:%Y-%m}",
        )
    ]
