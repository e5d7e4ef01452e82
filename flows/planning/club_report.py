"""The monthly club report, on the first working day of the month: KPIs per club and region,
and each dealer their own club's figures."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.club_report import is_first_working_day_of_month, report_month
from flows.naming import clock, parameter, run_day
from tasks.common import run_logger
from tasks.outbox import queue_notifications_task
from tasks.planning.club_report import (
    compose_dealer_reports_task,
    gather_club_facts_task,
    publish_club_report_task,
)


@flow(
    name="club-report",
    flow_run_name=lambda: f"club report {report_month(run_day(parameter('now'))):%Y-%m}",
    description="Monthly club KPIs per club and region; each dealer gets their own numbers.",
    log_prints=False,
)
def club_report(now: datetime | None = None, force: bool = False) -> dict:
    """Report the previous month.

    Args:
        now: the time the run acts at; empty: now.
        force: run even if today is not the month's first working day (a rerun by hand).
    """
    settings = get_settings()
    now = clock(now)
    today = run_day(now)
    # The schedule fires on days 1–10 (cron cannot say "first working day"); every run but
    # the one on the first working day stops here.
    if not force and not is_first_working_day_of_month(today):
        run_logger("planning").info(
            "%s is not the first working day of the month: nothing to do", today
        )
        return {"skipped": True}
    month = report_month(today)
    facts = gather_club_facts_task(month=month, settings=settings)
    counts = publish_club_report_task(facts, month)
    requests = compose_dealer_reports_task(facts, month, settings)
    queued = queue_notifications_task(requests, now, settings=settings)
    return {"skipped": False, "month": f"{month:%Y-%m}", **counts, "queued": queued.queued}
