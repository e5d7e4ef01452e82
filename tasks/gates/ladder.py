"""The ladder of an overdue gate: from its due date the owner is reminded, and some working
days later the escalation recipient hears; each level once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import calendar
from domain.gates import Level, levels_due, owner_recipient
from domain.models import Gate, GateStatus
from tasks.common import data_task
from tasks.outbox import (
    NotificationRequest,
    queue_checked_notifications,
)


def gate_ladder_notifications(
    *, session: Session, now: datetime, settings: Settings
) -> list[NotificationRequest]:
    """Reminders and escalations owed by open gates today; marks them sent in this session, so
    queueing them in the same transaction makes each level happen once."""
    today = calendar.business_date(now)
    requests = []
    gates = session.execute(
        select(Gate).where(Gate.status == GateStatus.open, Gate.due_on <= today)
    ).scalars()
    for gate in gates:
        levels = levels_due(
            due_on=gate.due_on,
            today=today,
            reminded=gate.reminded_at is not None,
            escalated=gate.escalated_at is not None,
            escalate_after_working_days=settings.escalate_after_working_days,
        )
        context = {
            "gate": gate.title,
            "subject": gate.subject_title or gate.subject_code,
            "subject_ref": f"{gate.subject_type}:{gate.subject_code}",
            "key": gate.key,
            "round": gate.round,
            "due_on": gate.due_on.isoformat(),
            "owner": owner_recipient(gate.owner_role, gate.owner_region),
            "overdue_working_days": max(calendar.working_days_between(gate.due_on, today), 0),
        }
        for level in levels:
            recipient = (
                owner_recipient(gate.owner_role, gate.owner_region)
                if level == Level.reminder
                else gate.escalate_to
            )
            requests.append(
                NotificationRequest(
                    recipient=recipient,
                    template=f"gate_{level}",
                    context=context,
                    idem_key=f"gate:{gate.id}:{level}",
                    urgent=level == Level.escalation,
                )
            )
            if level == Level.reminder:
                gate.reminded_at = now
            else:
                gate.escalated_at = now
    session.flush()
    return requests


def queue_gate_reminders(*, session: Session, now: datetime, settings: Settings) -> list[str]:
    """Queue today's reminders and escalations (each level once per gate); their keys."""
    requests = gate_ladder_notifications(session=session, now=now, settings=settings)
    queue_checked_notifications(session=session, requests=requests, now=now, settings=settings)
    return [r.idem_key for r in requests]


queue_gate_reminders_task = data_task(queue_gate_reminders, retries=2, retry_delay_seconds=[5, 30])
