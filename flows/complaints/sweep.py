"""The complaints sweep, hourly: late stages escalated once per level, answered complaints
without the member's reply closed, and each ended activity's satisfaction sample drawn once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock, parameter, run_day
from tasks.complaints.steps import (
    ended_activities_task,
    sample_satisfaction_task,
    sweep_complaints_task,
)


@flow(
    name="complaints-sweep",
    flow_run_name=lambda: f"complaints sweep {run_day(parameter('now')):%Y-%m-%d}",
    description="Escalate late complaints, auto-close unconfirmed ones, draw satisfaction samples.",
    log_prints=False,
)
def complaints_sweep(now: datetime | None = None) -> dict:
    """Args:
    now: the time the run acts at; empty: now.
    """
    settings = get_settings()
    now = clock(now)
    swept = sweep_complaints_task(now=now, settings=settings)
    sampled = [
        sample_satisfaction_task(activity_code=code, now=now, settings=settings)
        for code in ended_activities_task(today=run_day(now), settings=settings)
    ]
    return {
        "escalated": swept.escalated,
        "closed": swept.closed,
        "sampled": {s.activity: s.sampled for s in sampled},
    }
