"""Daily: the month's points budget (warn the campaign manager once at the warning share) and
the anomaly check of the day before (members whose points jumped, flagged for HQ's review)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.points_budget import flag_anomalies_task, warn_budget_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-points-budget",
    flow_run_name=daily_run_name("members", "points budget"),
    log_prints=False,
)
def check_points_budget(now: datetime | None = None) -> dict[str, float]:
    now = clock(now)
    today = run_day(now)
    # The day before is complete at the morning run; the month is the day before's too, so
    # the first of a month still closes the last month's account.
    day = today - timedelta(days=1)
    month, warned = warn_budget_task(day=day, now=now)
    anomalies = flag_anomalies_task(day=day, now=now)
    deliver_notifications_task(now)
    return {
        "issued_points": month.issued_points,
        "redeemed_points": month.redeemed_points,
        "share": round(month.share, 4),
        "warned": int(warned),
        "flagged": len(anomalies.flagged),
    }
