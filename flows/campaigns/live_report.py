"""Every day while campaigns run (L … end): the agency's live KPI figures are pulled from its
API (when its block is saved; CSV files come in with `clubflow campaign import-kpis`), each
campaign's live report artifact is updated in place, and a KPI behind pace is told to the
campaign manager (once per KPI and day)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.links import portal_link
from clubflow.core.settings import get_settings
from domain import calendar
from flows.naming import clock, daily_run_name
from tasks.campaigns import messages
from tasks.campaigns.live import (
    fetch_agency_kpis_task,
    live_campaigns_task,
    live_report_task,
    publish_live_report_task,
    remember_live_artifact_task,
    store_snapshots_task,
)
from tasks.campaigns.store import load_campaign_task
from tasks.outbox import queue_notifications_task


@flow(
    name="campaign-live-report",
    flow_run_name=daily_run_name("campaigns", "live report"),
    log_prints=False,
)
def campaign_live_report(now: datetime | None = None) -> dict[str, int]:
    """Pull, report and warn for each running campaign; returns the warnings per campaign."""
    settings = get_settings()
    now = clock(now)
    today = calendar.business_date(now)
    warned: dict[str, int] = {}
    for campaign_id in live_campaigns_task(today=today, settings=settings):
        view = load_campaign_task(campaign_id=campaign_id, settings=settings)
        items = fetch_agency_kpis_task(view.code, settings.campaign_kpi_source_block)
        if items:
            store_snapshots_task(
                rows=items,
                source=f"api:{settings.campaign_kpi_source_block}",
                now=now,
                settings=settings,
            )
        live = live_report_task(campaign_id=campaign_id, today=today, settings=settings)
        artifact_id = publish_live_report_task(live)
        remember_live_artifact_task(
            campaign_id=campaign_id, artifact_id=artifact_id, settings=settings
        )
        link = portal_link(f"/campaigns/{view.code}/live", settings=settings, now=now)
        warnings = [messages.kpi_behind(live, kpi, link=link) for kpi in live.behind]
        if warnings:
            queue_notifications_task(warnings, now)
        warned[view.code] = len(warnings)
    return warned
