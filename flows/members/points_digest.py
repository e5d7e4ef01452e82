"""Daily (evening): tell each member the points credited to them that business day, in one
digest message (activity points, spending, online interactions)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.points_digest import queue_points_digests_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-points-digest",
    flow_run_name=daily_run_name("members", "points digest"),
    log_prints=False,
)
def send_points_digest(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = queue_points_digests_task(day=run_day(now), now=now)
    deliver_notifications_task(now)
    return {"members": len(report.members), "queued": report.queued}
