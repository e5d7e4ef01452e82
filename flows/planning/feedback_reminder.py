"""On the 8th: remind the dealers whose monthly feedback is not in (due the 10th)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.club_report import report_month
from flows.naming import clock, parameter, run_day
from tasks.outbox import queue_notifications_task
from tasks.planning.club_report import find_missing_feedback_task


@flow(
    name="feedback-reminder",
    flow_run_name=lambda: f"feedback reminder {report_month(run_day(parameter('now'))):%Y-%m}",
    description="Remind dealers whose monthly feedback is missing (due the 10th).",
    log_prints=False,
)
def feedback_reminder(now: datetime | None = None) -> dict:
    """Remind, once, every active dealer who has not answered its return about last month."""
    settings = get_settings()
    now = clock(now)
    month = report_month(run_day(now))
    requests = find_missing_feedback_task(month=month, now=now, settings=settings)
    queued = queue_notifications_task(requests, now, settings=settings)
    return {"month": f"{month:%Y-%m}", "missing": len(requests), "queued": queued.queued}
