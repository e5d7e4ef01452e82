"""Hourly: the dealer system's purchase, service and parts bills, credited as points once each."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name
from tasks.members.transaction_feed import fetch_dealer_transactions_task


@flow(
    name="members-transaction-feed",
    flow_run_name=daily_run_name("members", "transaction feed"),
    log_prints=False,
)
def members_transaction_feed(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    report = fetch_dealer_transactions_task(now=now, settings=settings)
    if report is None:
        return {"recorded": 0, "points": 0, "duplicates": 0, "rejected": 0}
    return {
        "recorded": report.recorded,
        "points": report.points,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
    }
