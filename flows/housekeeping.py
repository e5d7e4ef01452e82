"""Daily: the runs list keeps a couple of days of housekeeping runs, not weeks of them."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock
from tasks.housekeeping import prune_housekeeping_runs_task


@flow(
    name="prune-housekeeping-runs",
    flow_run_name="housekeeping · prune old runs",
    log_prints=False,
)
def prune_housekeeping_runs(now: datetime | None = None) -> dict[str, int]:
    """Delete finished runs of the housekeeping deployments that ended before the kept days."""
    settings = get_settings()
    return {"deleted": prune_housekeeping_runs_task(clock(now), settings=settings)}
