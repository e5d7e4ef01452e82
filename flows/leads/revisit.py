"""Weekly revisit (Mondays 09:00): leads unconverted for over two months, to their agents;
a lead leaves the list once a revisit's result converts or closes it."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name
from tasks.leads.common import load_lead_channels_task
from tasks.leads.revisit import list_revisits_task, publish_revisit_summary_task


@flow(
    name="leads-weekly-revisit",
    flow_run_name=daily_run_name("leads", "revisit"),
    log_prints=False,
)
def leads_weekly_revisit(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    channels = load_lead_channels_task()
    result = list_revisits_task(now=clock(now), channels=channels, settings=settings)
    publish_revisit_summary_task(result)
    return {**result.summary(), **result.by_recipient}
