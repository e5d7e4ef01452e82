"""Yearly: the tier review, the only time a tier may fall."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name
from tasks.members.review import review_tiers_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-tier-review",
    flow_run_name=daily_run_name("members", "tier review"),
    log_prints=False,
)
def review_member_tiers(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = review_tiers_task(now=now)
    deliver_notifications_task(now)
    return {"up": len(report.up), "down": len(report.down)}
