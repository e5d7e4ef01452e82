"""Monthly: expire the points whose two years are up (oldest first, as ledger rows), then warn
members whose points expire within the next 30 days."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.expiry import (
    expire_points_task,
    publish_points_expiry,
    warn_expiring_points_task,
)
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-points-expiry",
    flow_run_name=daily_run_name("members", "points expiry"),
    log_prints=False,
)
def expire_member_points(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    as_of = run_day(now)
    expired = expire_points_task(as_of=as_of, now=now)
    warned = warn_expiring_points_task(as_of=as_of, now=now)
    deliver_notifications_task(now)
    publish_points_expiry(as_of, expired, warned)
    return {
        "expired_members": len(expired.members),
        "expired_points": expired.points,
        "warned_members": len(warned.members),
    }
