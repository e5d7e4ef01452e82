"""Hourly: a dispute not acknowledged (受理) or not resolved by its due time escalates, once per
level (1: HQ campaign managers, 2: legal)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import Field

from clubflow.core.settings import get_settings
from flows.naming import clock, daily_run_name
from tasks.disputes.sweep import escalate_overdue_disputes_task


@flow(name="disputes-sweep", flow_run_name=daily_run_name("disputes", "sweep"), log_prints=False)
def disputes_sweep(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    settings = get_settings()
    now = clock(now)
    return {"escalated": escalate_overdue_disputes_task(now=now, settings=settings)}
