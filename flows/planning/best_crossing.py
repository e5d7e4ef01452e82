"""Year-end best crossing (年度最佳穿越): score the year's crossings, publish the ranking."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from prefect.runtime import flow_run

from domain.calendar import business_date
from tasks.outbox import queue_notifications_task
from tasks.planning.scoring import best_crossing_requests, score_crossings_task


def _year(params: dict) -> int:
    return params.get("year") or business_date(params.get("now") or datetime.now(UTC)).year


@flow(
    name="best-crossing",
    flow_run_name=lambda: f"best crossing {_year(flow_run.parameters)}",
    description="Score the year's crossings and tell every region the ranking.",
    log_prints=False,
)
def best_crossing(year: int | None = None, now: datetime | None = None) -> dict:
    """Score the year's crossings; scoring again (a late recap) re-ranks in place.

    Args:
        year: the year to score; empty: the current business year.
        now: the time the run acts at; empty: now.
    """
    now = now or datetime.now(UTC)
    year = year or business_date(now).year
    rows = score_crossings_task(year, now)
    if not rows:
        return {"year": year, "crossings": 0, "queued": 0}
    queued = queue_notifications_task(best_crossing_requests(year, rows), now)
    return {
        "year": year,
        "crossings": len(rows),
        "best": rows[0]["quarter"],
        "queued": queued.queued,
    }
