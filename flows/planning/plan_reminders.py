"""The daily sweep of monthly plans: clubs whose plan is due today or late are reminded once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock
from tasks.planning.notify import remind_missing_monthly_plans_task


@flow(
    name="remind-monthly-plans",
    flow_run_name="planning · monthly plan reminders",
    description="Remind club admins whose monthly plan is due or overdue (once per slot).",
    log_prints=False,
)
def remind_monthly_plans(now: datetime | None = None) -> dict:
    settings = get_settings()
    return {"reminders": remind_missing_monthly_plans_task(now=clock(now), settings=settings)}
