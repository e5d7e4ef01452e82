"""The lead sweep (every 15 minutes): overdue calls remind the agent then the supervisor,
appointments come due, hand-offs past their deadline bounce."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name
from tasks.leads.common import load_lead_channels_task
from tasks.leads.handoff import bounce_overdue_handoffs_task
from tasks.leads.sweep import sweep_calls_task
from tasks.outbox import deliver_notifications_task


@flow(name="leads-sweep", flow_run_name=daily_run_name("leads", "sweep"), log_prints=False)
def leads_sweep(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    channels = load_lead_channels_task()
    calls = sweep_calls_task(now=now, channels=channels, settings=settings)
    bounced = bounce_overdue_handoffs_task(now=now, channels=channels, settings=settings)
    if bounced.bounced or bounced.to_specialist:
        deliver_notifications_task(now)  # the next dealer hears at once
    return {
        "overdue_calls": calls.overdue_calls,
        "agents_reminded": calls.agents_reminded,
        "escalated_calls": calls.escalated_calls,
        "appointments_due": calls.appointments_due,
        "bounced": bounced.bounced,
        "to_specialist": bounced.to_specialist,
    }
