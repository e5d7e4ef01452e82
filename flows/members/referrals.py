"""Daily: reward referral events (a referred member activated or bought), once each."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name
from tasks.members.referrals import reward_referrals_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-referral-rewards",
    flow_run_name=daily_run_name("members", "referral rewards"),
    log_prints=False,
)
def reward_referrals(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = reward_referrals_task(now=now)
    deliver_notifications_task(now)
    return {"rewarded": report.rewarded, "capped": report.capped, "points": report.points}
