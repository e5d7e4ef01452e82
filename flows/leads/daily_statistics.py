"""Daily call statistics artifact: by source, agent and outcome; contact and valid rates;
hand-off acceptance time."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import parameter, run_day
from tasks.leads.reports import publish_statistics_task
from tasks.leads.statistics import compute_statistics_task


def _name() -> str:
    return f"leads {parameter('day') or 'yesterday'} · statistics"


@flow(name="leads-daily-statistics", flow_run_name=_name, log_prints=False)
def leads_daily_statistics(
    day: date | None = Field(None, description="Business day (default: yesterday)"),
) -> dict[str, float]:
    settings = get_settings()
    day = day or run_day(None) - timedelta(days=1)
    stats, markdown = compute_statistics_task(day=day, settings=settings)
    publish_statistics_task(stats, markdown)
    return {
        "calls": stats.calls,
        "contact_rate": round(stats.contact_rate, 4),
        "valid_rate": round(stats.valid_rate, 4),
    }
