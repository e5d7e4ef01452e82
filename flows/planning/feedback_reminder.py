"""On the 8th: remind the dealers whose monthly feedback is not in (due the 10th, DOMAIN §7)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from prefect.runtime import flow_run

from domain.calendar import business_date
from domain.club_report import report_month
from tasks.outbox import queue_notifications_task
from tasks.planning.club_report import find_missing_feedback_task


def _run_name() -> str:
    now = flow_run.parameters.get("now") or datetime.now(UTC)
    return f"feedback reminder {report_month(business_date(now)):%Y-%m}"


@flow(
    name="feedback-reminder",
    flow_run_name=_run_name,
    description="Remind dealers whose monthly feedback is missing (due the 10th).",
    log_prints=False,
)
def feedback_reminder(now: datetime | None = None) -> dict:
    """Remind, once, every active dealer without a return about last month."""
    now = now or datetime.now(UTC)
    month = report_month(business_date(now))
    requests = find_missing_feedback_task(month)
    queued = queue_notifications_task(requests, now)
    return {"month": f"{month:%Y-%m}", "missing": len(requests), "queued": queued.queued}
