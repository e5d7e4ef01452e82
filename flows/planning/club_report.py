"""The monthly club report (DOMAIN §7), on the first working day of the month."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from domain.calendar import business_date
from domain.club_report import is_first_working_day_of_month, report_month
from tasks.outbox import queue_notifications_task
from tasks.planning.club_report import (
    compose_dealer_reports_task,
    gather_club_facts_task,
    publish_club_report_task,
)


def _run_name() -> str:
    now = flow_run.parameters.get("now") or datetime.now(UTC)
    return f"club report {report_month(business_date(now)):%Y-%m}"


@flow(
    name="club-report",
    flow_run_name=_run_name,
    description="Monthly club KPIs per club and region; each dealer gets their own numbers.",
    log_prints=False,
)
def club_report(now: datetime | None = None, force: bool = False) -> dict:
    """Report the previous month.

    Args:
        now: the time the run acts at; empty: now.
        force: run even if today is not the month's first working day (a rerun by hand).
    """
    now = now or datetime.now(UTC)
    today: date = business_date(now)
    # The schedule fires on days 1–10 (cron cannot say "first working day"); every run but
    # the one on the first working day stops here.
    if not force and not is_first_working_day_of_month(today):
        get_run_logger().info("%s is not the first working day of the month: nothing to do", today)
        return {"skipped": True}
    month = report_month(today)
    facts = gather_club_facts_task(month)
    counts = publish_club_report_task(facts, month)
    queued = queue_notifications_task(compose_dealer_reports_task(facts, month), now)
    return {"skipped": False, "month": f"{month:%Y-%m}", **counts, "queued": queued.queued}
