"""Year-end best crossing: each quarter's crossing scored from the activity lifecycle's
records (checked-in participants, the recap's feedback score and media reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import delete, func, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain import planning
from domain.models import Activity, Recap, Registration
from domain.models_planning import CrossingScore, QuarterPlanRecord
from domain.planning import CrossingResult, RankedCrossing
from domain.regions import REGIONS
from tasks.common import data_task
from tasks.outbox import NotificationRequest
from tasks.render import render

REGION_ZH = {r.code: r.name_zh for r in REGIONS}


def crossing_results(*, session: Session, year: int) -> tuple[list[CrossingResult], dict]:
    """The year's crossings (from the quarter plans) with their activity's figures; a crossing
    without an activity record scores zero and is listed as missing."""
    plans = (
        session.execute(
            select(QuarterPlanRecord)
            .where(QuarterPlanRecord.quarter.like(f"{year}Q%"))
            .order_by(QuarterPlanRecord.quarter)
        )
        .scalars()
        .all()
    )
    codes = [p.crossing_activity_code for p in plans]
    activities = dict(
        session.execute(select(Activity.code, Activity.id).where(Activity.code.in_(codes))).all()
    )
    checked_in = dict(
        session.execute(
            select(Registration.activity_id, func.count())
            .where(
                Registration.activity_id.in_(activities.values()),
                Registration.checked_in_at.is_not(None),
            )
            .group_by(Registration.activity_id)
        ).all()
    )
    recaps = {
        r.activity_id: r
        for r in session.execute(
            select(Recap).where(Recap.activity_id.in_(activities.values()))
        ).scalars()
    }
    results, themes = [], {}
    for p in plans:
        activity_id = activities.get(p.crossing_activity_code)
        recap = recaps.get(activity_id)
        themes[p.quarter] = p.crossing_theme
        results.append(
            CrossingResult(
                quarter=p.quarter,
                region_code=p.crossing_region,
                activity_code=p.crossing_activity_code if activity_id else None,
                participants=checked_in.get(activity_id, 0),
                feedback_score=recap.feedback_score if recap else None,
                media_reach=recap.media_reads if recap else 0,
            )
        )
    return results, themes


def store_scores(
    *, session: Session, year: int, ranking: list[RankedCrossing], now: datetime
) -> None:
    """Replace the year's scores: scoring again (a late recap) re-ranks, never duplicates."""
    session.execute(delete(CrossingScore).where(CrossingScore.year == year))
    session.add_all(
        CrossingScore(
            year=year,
            quarter=r.result.quarter,
            region_code=r.result.region_code,
            activity_code=r.result.activity_code,
            participants=r.result.participants,
            feedback_score=r.result.feedback_score,
            media_reach=r.result.media_reach,
            score=r.score,
            rank=r.rank,
            scored_at=now,
        )
        for r in ranking
    )


def ranking_rows(ranking: list[RankedCrossing], themes: dict) -> list[dict]:
    return [
        {
            "rank": r.rank,
            "quarter": r.result.quarter,
            "region": REGION_ZH.get(r.result.region_code, r.result.region_code),
            "theme": themes.get(r.result.quarter, ""),
            "participants": r.result.participants,
            "feedback": "—" if r.result.feedback_score is None else r.result.feedback_score,
            "media_reach": r.result.media_reach,
            "score": r.score,
        }
        for r in ranking
    ]


def best_crossing_requests(year: int, rows: list[dict]) -> list[NotificationRequest]:
    recipients = [f"role:regional_specialist:{r.code}" for r in REGIONS]
    recipients.append("role:campaign_manager")
    context = {"year": year, "best": rows[0], "ranking": rows}
    return [
        NotificationRequest(
            recipient=to,
            template="planning_best_crossing",
            context=context,
            idem_key=f"best-crossing:{year}:{to}",
        )
        for to in recipients
    ]


@dataclass
class YearScores:
    year: int
    rows: list[dict]  # the ranking, best first (ranking_rows)
    weights: dict[str, float]
    missing: list[str] = field(default_factory=list)  # quarters without an activity record


def score_crossings(
    *, session: Session, year: int, now: datetime, settings: Settings
) -> YearScores:
    """Score and store the year's crossings (a second scoring re-ranks in place)."""
    results, themes = crossing_results(session=session, year=year)
    ranking = planning.score_crossings(results, settings.crossing_score_weights)
    store_scores(session=session, year=year, ranking=ranking, now=now)
    return YearScores(
        year=year,
        rows=ranking_rows(ranking, themes),
        weights=dict(settings.crossing_score_weights),
        missing=[r.quarter for r in results if r.activity_code is None],
    )


score_crossings_task = data_task(score_crossings, retries=2)


@task(name="publish-best-crossing", cache_policy=NO_CACHE)
def publish_best_crossing_task(scores: YearScores) -> None:
    """The year's ranking as the run's artifact."""
    create_markdown_artifact(
        key=f"best-crossing-{scores.year}",
        markdown=render(
            "reports/planning_best_crossing.md.j2",
            {
                "year": scores.year,
                "ranking": scores.rows,
                "weights": scores.weights,
                "missing": scores.missing,
            },
        ),
        description=f"Best crossing of {scores.year}",
    )
