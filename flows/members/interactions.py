"""Record member interactions (service visits, purchases...) from the dealer systems; service
visits count toward silver, a referred member's purchase pays the referral reward."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from domain.members import InteractionInput
from flows.naming import clock, daily_run_name
from tasks.members.interactions import record_interactions_task
from tasks.members.referrals import reward_referrals_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="record-member-interactions",
    flow_run_name=daily_run_name("members", "interactions"),
    log_prints=False,
)
def record_member_interactions(
    interactions: list[InteractionInput], now: datetime | None = None
) -> dict[str, int]:
    now = clock(now)
    report = record_interactions_task(interactions=interactions, now=now)
    reward_referrals_task(now=now)
    deliver_notifications_task(now)
    return {
        "recorded": report.recorded,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
    }
