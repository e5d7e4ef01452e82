"""Lead intake (every 15 minutes, and `clubflow leads import FILE`): import, dedupe, assign,
plan the calls, send each agent their list, warn of peak dates short of night cover."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name, run_day
from tasks.leads.assignment import assign_leads_task
from tasks.leads.call_lists import queue_call_lists_task
from tasks.leads.common import load_lead_channels_task
from tasks.leads.intake import (
    fetch_source_leads_task,
    import_lead_files_task,
    retry_pending_leads_task,
)
from tasks.leads.reports import publish_intake_report_task
from tasks.leads.roster import check_peak_roster_task


@flow(name="leads-intake", flow_run_name=daily_run_name("leads", "intake"), log_prints=False)
def leads_intake(
    files: list[str] | None = Field(
        None, description="CSV files to import; empty = every file in the inbox folder"
    ),
    source: str = Field("csv", description="Source name recorded for the given files"),
    pull_source: bool = Field(True, description="Also read the paged HTTP lead source"),
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
    column_map: dict[str, str] | None = Field(
        None, description="Headers the known aliases miss, e.g. {'客户手机': 'phone'}"
    ),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    # Rows kept pending by earlier runs first: they arrived before today's files.
    retried = retry_pending_leads_task(now=now, settings=settings)
    imports = import_lead_files_task(
        files, now=now, source=source, column_map=column_map, settings=settings
    )
    if pull_source:
        fetched = fetch_source_leads_task(now=now, settings=settings)
        if fetched is not None:
            imports.append(fetched)
    # Assignment and lists also pick up leads left over by an earlier crashed or full run.
    assignment = assign_leads_task(now=now, settings=settings)
    channels = load_lead_channels_task()
    call_lists = queue_call_lists_task(now=now, channels=channels, settings=settings)
    # Peak dates ahead whose night cover is short: the supervisor hears once per date.
    peaks = check_peak_roster_task(now=now, channels=channels, settings=settings)
    publish_intake_report_task(run_day(now), imports, assignment, call_lists)
    return {
        "created": sum(s.created for s in imports) + retried.created,
        "merged": sum(s.merged for s in imports) + retried.merged,
        "rejected": sum(s.rejected for s in imports) + retried.final,
        # Kept, not lost: tried again by every run until their city has a dealer.
        "pending": sum(s.pending for s in imports) + retried.pending,
        "from_pending": retried.created + retried.merged,
        "refused_files": sum(1 for s in imports if s.refused),
        "assigned": sum(s.assigned for s in imports) + retried.assigned + assignment.assigned,
        "unassigned": assignment.unassigned,
        "call_lists": call_lists.lists,
        "peak_dates_short": len(peaks.short),
    }
