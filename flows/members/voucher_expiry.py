"""Daily: vouchers not written off by their last day expire; where the reward's policy says
so their points come back as a ledger row; each member is told once per voucher."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.voucher_expiry import expire_vouchers_task, publish_voucher_expiry
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-voucher-expiry",
    flow_run_name=daily_run_name("members", "voucher expiry"),
    log_prints=False,
)
def expire_member_vouchers(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    as_of = run_day(now)
    report = expire_vouchers_task(as_of=as_of, now=now)
    deliver_notifications_task(now)
    publish_voucher_expiry(as_of, report)
    return {
        "expired_vouchers": report.vouchers,
        "refunded_vouchers": report.refunded_vouchers,
        "refunded_points": report.refunded_points,
    }
