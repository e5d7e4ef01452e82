"""The monthly club rating, after the dealers' monthly returns are due: every active club
scored, ranked nationally and per region, each dealer told its club's places; in the awards
month the previous year's top clubs are recorded and announced."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.club_report import report_month
from flows.naming import clock, parameter, run_day
from tasks.clubs.rating import (
    award_requests_task,
    award_year_task,
    awards_markdown_task,
    place_requests_task,
    publish_club_awards_task,
    publish_club_ranking_task,
    ranking_markdown_task,
    score_month_task,
)
from tasks.outbox import queue_notifications_task


@flow(
    name="club-rating",
    flow_run_name=lambda: f"club rating {report_month(run_day(parameter('now'))):%Y-%m}",
    description="Monthly club scores and rankings; yearly awards in the awards month.",
    log_prints=False,
)
def club_rating(now: datetime | None = None) -> dict:
    """Rate the previous month.

    Args:
        now: the time the run acts at; empty: now.
    """
    settings = get_settings()
    now = clock(now)
    today = run_day(now)
    month = report_month(today)
    scored = score_month_task(month=month, settings=settings)
    publish_club_ranking_task(ranking_markdown_task(month=month), month)
    queued = queue_notifications_task(place_requests_task(month=month), now, settings=settings)
    awarded = announced = 0
    if today.month == settings.club_awards_month:
        year = today.year - 1
        awarded = award_year_task(year=year, settings=settings)
        # Announced from the stored awards, so a re-run (nothing new awarded) adds nothing
        # and a run that failed after recording them still announces them.
        publish_club_awards_task(awards_markdown_task(year=year), year)
        announced = queue_notifications_task(
            award_requests_task(year=year), now, settings=settings
        ).queued
    return {
        "month": f"{month:%Y-%m}",
        "scored": scored,
        "queued": queued.queued,
        "awarded": awarded,
        "announced": announced,
    }
