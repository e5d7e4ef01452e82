"""Year-end best crossing (年度最佳穿越): score the year's crossings, publish the ranking."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock, parameter, run_day
from tasks.outbox import queue_notifications_task
from tasks.planning.scoring import (
    best_crossing_requests,
    publish_best_crossing_task,
    score_crossings_task,
)


@flow(
    name="best-crossing",
    flow_run_name=lambda: f"best crossing {parameter('year') or run_day(parameter('now')).year}",
    description="Score the year's crossings and tell every region the ranking.",
    log_prints=False,
)
def best_crossing(year: int | None = None, now: datetime | None = None) -> dict:
    """Score the year's crossings; scoring again (a late recap) re-ranks in place.

    Args:
        year: the year to score; empty: the current business year.
        now: the time the run acts at; empty: now.
    """
    settings = get_settings()
    now = clock(now)
    year = year or run_day(now).year
    scores = score_crossings_task(year=year, now=now, settings=settings)
    if not scores.rows:
        return {"year": year, "crossings": 0, "queued": 0}
    publish_best_crossing_task(scores)
    requests = best_crossing_requests(year, scores.rows)
    queued = queue_notifications_task(requests, now, settings=settings)
    return {
        "year": year,
        "crossings": len(scores.rows),
        "best": scores.rows[0]["quarter"],
        "queued": queued.queued,
    }
