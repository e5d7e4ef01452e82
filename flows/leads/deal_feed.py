"""The dealer system's feed: follow-up records (visits, test drives, orders, lost deals) come
back to the brand, each stored once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name
from tasks.leads.deals import fetch_dealer_deals_task, publish_deal_feed_report_task


@flow(name="leads-deal-feed", flow_run_name=daily_run_name("leads", "deal feed"), log_prints=False)
def leads_deal_feed(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    summary = fetch_dealer_deals_task(now=now, settings=settings)
    publish_deal_feed_report_task(summary)
    if summary is None:
        return {"recorded": 0, "orders": 0, "lost": 0, "duplicates": 0, "rejected": 0}
    return {
        "recorded": summary.recorded,
        "orders": summary.orders,
        "lost": summary.lost,
        "duplicates": summary.duplicates,
        "rejected": len(summary.rejected),
    }
