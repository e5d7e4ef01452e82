"""Daily call statistics artifact: by source, agent and outcome; contact and valid rates;
hand-off acceptance time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prefect import flow
from pydantic import Field

from flows.leads.common import run_day
from tasks.leads.reports import publish_statistics_task
from tasks.leads.statistics import compute_statistics_task


def _name() -> str:
    from prefect.runtime import flow_run

    day = flow_run.parameters.get("day")
    return f"leads {day or 'yesterday'} statistics"


@flow(name="leads-daily-statistics", flow_run_name=_name, log_prints=False)
def leads_daily_statistics(
    day: date | None = Field(None, description="Business day (default: yesterday)"),
) -> dict[str, float]:
    day = day or run_day(datetime.now(UTC)) - timedelta(days=1)
    stats, markdown = compute_statistics_task(day)
    publish_statistics_task(stats, markdown)
    return {
        "calls": stats.calls,
        "contact_rate": round(stats.contact_rate, 4),
        "valid_rate": round(stats.valid_rate, 4),
    }
