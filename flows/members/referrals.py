"""Daily: reward referral events (a referred member activated or bought), once each."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.members.naming import clock, run_name
from tasks.members.referrals import reward_referrals_task
from tasks.outbox import deliver_notifications_task


@flow(name="reward-referrals", flow_run_name=run_name("referral rewards"), log_prints=False)
def reward_referrals(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = reward_referrals_task(now)
    deliver_notifications_task(now)
    return {"rewarded": report.rewarded, "capped": report.capped, "points": report.points}
