"""The sweep (every 15 minutes): overdue calls, appointments come due.

Everything is a GROUP BY over the open leads (index on status, next_call_due): 100,000 open
calls cost one aggregate, not 100,000 rows in Python. Reminders are one per agent per day,
the escalation one per day to the supervisor, each with its day in the idempotency key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ, business_date, default_calendar
from domain.models import Lead, LeadStatus, Person
from tasks.common import chunks, data_task, run_logger
from tasks.leads.roster import service_hours
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class SweepResult:
    overdue_calls: int = 0
    agents_reminded: int = 0
    escalated_calls: int = 0
    appointments_due: int = 0
    by_agent: dict[str, int] = field(default_factory=dict)


def remind_overdue_calls(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None,
) -> SweepResult:
    """Calls due before today: the agent is reminded; calls overdue by more than N working
    days go to the supervisor too. Every day (the service team calls on rest days too), but
    only while the service is open: nobody is told at 02:00 of a normal day."""
    result = SweepResult()
    today = business_date(now)
    calendar = default_calendar()
    if not service_hours(session=session, settings=settings, start=today).is_open(now):
        return result
    escalate_before = calendar.add_working_days(
        today, -settings.leads_overdue_escalate_working_days
    )
    rows = session.execute(
        select(
            Person.username,
            Person.name,
            func.count(),
            func.min(Lead.next_call_due),
            func.sum(case((Lead.next_call_due < escalate_before, 1), else_=0)),
        )
        .join(Person, Person.id == Lead.agent_id)
        .where(Lead.status == LeadStatus.open)
        .where(Lead.next_call_due < today)
        .group_by(Person.username, Person.name)
        .order_by(Person.username)
    ).all()
    requests = []
    escalation_lines = []
    for username, name, count, oldest, escalated in rows:
        result.overdue_calls += count
        result.by_agent[username] = count
        requests.append(
            NotificationRequest(
                recipient=f"person:{username}",
                template="leads_overdue_calls",
                context={
                    "agent_name": name,
                    "count": count,
                    "oldest": oldest.isoformat(),
                    "day": today.isoformat(),
                },
                idem_key=f"leads:overdue:{today.isoformat()}:{username}",
            )
        )
        if escalated:
            result.escalated_calls += int(escalated)
            escalation_lines.append({"agent": name, "username": username, "count": int(escalated)})
    result.agents_reminded = len(requests)
    if escalation_lines:
        requests.append(
            NotificationRequest(
                recipient="role:call_supervisor",
                template="leads_overdue_escalation",
                context={
                    "day": today.isoformat(),
                    "total": result.escalated_calls,
                    "working_days": settings.leads_overdue_escalate_working_days,
                    "agents": escalation_lines,
                },
                idem_key=f"leads:overdue-escalation:{today.isoformat()}",
            )
        )
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    return result


def notify_due_appointments(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None,
) -> int:
    """Appointments whose time has come: one message per agent with them, marked atomically."""
    rows = session.execute(
        select(Lead.id, Lead.appointment_at, Person.username, Person.name)
        .join(Person, Person.id == Lead.agent_id)
        .where(Lead.status == LeadStatus.open)
        .where(Lead.appointment_at.is_not(None))
        .where(Lead.appointment_at <= now)
        .where(Lead.appointment_notified_at.is_(None))
        .order_by(Person.username, Lead.appointment_at, Lead.id)
    ).all()
    groups: dict[tuple[str, str], list[tuple[int, datetime]]] = {}
    for lead_id, at, username, name in rows:
        groups.setdefault((username, name), []).append((lead_id, at))
    requests = []
    for (username, name), leads in groups.items():
        ids = ",".join(str(i) for i, _ in leads)
        digest = hashlib.sha256(ids.encode()).hexdigest()[:16]
        requests.append(
            NotificationRequest(
                recipient=f"person:{username}",
                template="leads_appointments_due",
                context={
                    "agent_name": name,
                    "count": len(leads),
                    "leads": [
                        {"id": i, "at": at.astimezone(BUSINESS_TZ).strftime("%m-%d %H:%M")}
                        for i, at in leads[:50]
                    ],
                },
                idem_key=f"leads:appointments:{username}:{digest}",
            )
        )
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    for batch in chunks([row[0] for row in rows]):
        session.execute(
            update(Lead).where(Lead.id.in_(batch)).values(appointment_notified_at=now),
            execution_options={"synchronize_session": False},
        )
    return len(rows)


def sweep_calls(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> SweepResult:
    """Remind agents of overdue calls, escalate old ones, announce due appointments."""
    result = remind_overdue_calls(session=session, now=now, settings=settings, channels=channels)
    result.appointments_due = notify_due_appointments(
        session=session, now=now, settings=settings, channels=channels
    )
    run_logger("leads").info(
        "%s overdue calls (%s agents reminded, %s escalated), %s appointments due",
        result.overdue_calls,
        result.agents_reminded,
        result.escalated_calls,
        result.appointments_due,
    )
    return result


sweep_calls_task = data_task(sweep_calls, retries=1, retry_delay_seconds=5)
