"""The monthly complaints summary for HQ: on the first working day, the previous month."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.club_report import is_first_working_day_of_month, report_month
from flows.naming import clock, parameter, run_day
from tasks.common import run_logger
from tasks.complaints.steps import summarise_complaints_task


@flow(
    name="complaints-monthly",
    flow_run_name=lambda: f"complaints {report_month(run_day(parameter('now'))):%Y-%m}",
    description="Complaints of the month by category, source and region; on-time rate; open ones.",
    log_prints=False,
)
def complaints_monthly(now: datetime | None = None, force: bool = False) -> dict:
    """Args:
    now: the time the run acts at; empty: now.
    force: run even if today is not the month's first working day.
    """
    settings = get_settings()
    now = clock(now)
    today = run_day(now)
    if not force and not is_first_working_day_of_month(today):
        run_logger("complaints").info("%s is not the first working day: nothing to do", today)
        return {"skipped": True}
    return {
        "skipped": False,
        **summarise_complaints_task(month=report_month(today), now=now, settings=settings),
    }
