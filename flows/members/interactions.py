"""Record member interactions (service visits, purchases...) from the dealer systems; service
visits count toward silver, a referred member's purchase pays the referral reward."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.members.naming import clock, run_name
from tasks.members.interactions import InteractionInput, record_interactions_task
from tasks.members.referrals import reward_referrals_task
from tasks.outbox import deliver_notifications_task


@flow(name="record-member-interactions", flow_run_name=run_name("interactions"), log_prints=False)
def record_member_interactions(
    interactions: list[InteractionInput], now: datetime | None = None
) -> dict[str, int]:
    now = clock(now)
    report = record_interactions_task(interactions, now)
    reward_referrals_task(now)
    deliver_notifications_task(now)
    return {
        "recorded": report.recorded,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
    }
