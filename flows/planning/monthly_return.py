"""On the 1st: the operator sends every active dealer its member report about last month and
the monthly questionnaire (answered on the portal's /returns by the due date)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.club_report import report_month
from flows.naming import clock, parameter, run_day
from tasks.planning.returns import publish_monthly_returns_task, send_monthly_returns_task


@flow(
    name="dealer-monthly-return",
    flow_run_name=lambda: f"dealer monthly return {report_month(run_day(parameter('now'))):%Y-%m}",
    description="Send each active dealer last month's member report and the monthly questionnaire.",
    log_prints=False,
)
def dealer_monthly_return(now: datetime | None = None) -> dict:
    """Send last month's returns; a dealer already sent is not sent again.

    Args:
        now: the time the run acts at; empty: now.
    """
    settings = get_settings()
    now = clock(now)
    month = report_month(run_day(now))
    sent = send_monthly_returns_task(month=month, now=now, settings=settings)
    publish_monthly_returns_task(sent)
    return {"month": sent.month, "sent": sent.sent, "already": sent.already, "queued": sent.queued}
