"""Monthly: this month's offer to every sleeping member who consented to marketing, capped
per member (settings retention_offer_cap within retention_offer_window_months)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.outbox import deliver_notifications_task
from tasks.retention.offers import offer_sleeping_members_task, publish_offers


@flow(
    name="members-monthly-offers",
    flow_run_name=daily_run_name("members", "offers"),
    log_prints=False,
)
def offer_sleeping_members(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = offer_sleeping_members_task(as_of=run_day(now), now=now)
    deliver_notifications_task(now)
    publish_offers(report)
    return {
        "offered": len(report.offered),
        "capped": report.capped,
        "no_consent": report.no_consent,
    }
