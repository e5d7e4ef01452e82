"""Call outcomes (call-centre CSV files and API): apply the call rules, hand the interested
leads to dealers at once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name, run_day
from tasks.leads.common import load_lead_channels_task
from tasks.leads.handoff import hand_off_leads_task
from tasks.leads.outcomes import fetch_call_centre_outcomes_task, import_outcome_files_task
from tasks.leads.reports import publish_outcome_report_task
from tasks.outbox import deliver_notifications_task


@flow(name="leads-outcomes", flow_run_name=daily_run_name("leads", "outcomes"), log_prints=False)
def leads_outcomes(
    files: list[str] | None = Field(None, description="Outcome CSV files from the call centre"),
    pull_call_centre: bool = Field(True, description="Also read the call centre's API"),
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    summaries = import_outcome_files_task(files or [], now=now, settings=settings)
    if pull_call_centre:
        fetched = fetch_call_centre_outcomes_task(now=now, settings=settings)
        if fetched is not None:
            summaries.append(fetched)
    channels = load_lead_channels_task()
    handoffs = hand_off_leads_task(now=now, channels=channels, settings=settings)
    if handoffs.handed:
        deliver_notifications_task(now)  # dealers hear of their leads at once
    publish_outcome_report_task(run_day(now), summaries, handoffs.rows)
    return {
        "applied": sum(s.applied for s in summaries),
        "duplicates": sum(s.duplicates for s in summaries),
        "rejected": sum(s.rejected for s in summaries),
        "handed_off": handoffs.handed,
    }
