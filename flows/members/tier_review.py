"""Yearly: the tier review, the only time a tier may fall."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.members.naming import clock, run_name
from tasks.members.review import review_tiers_task
from tasks.outbox import deliver_notifications_task


@flow(name="review-member-tiers", flow_run_name=run_name("tier review"), log_prints=False)
def review_member_tiers(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = review_tiers_task(now)
    deliver_notifications_task(now)
    return {"up": len(report.up), "down": len(report.down)}
