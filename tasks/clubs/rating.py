"""The monthly club score and places, and the yearly awards, in the store.

The figures are the monthly club report's (tasks/planning/club_report.py gathers them,
domain/club_report.py computes them); this module only reads them. A month is scored once:
its rows are keyed by (club, month), a re-run keeps the first scores.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.club_rating import ClubFigures, awards, rank
from domain.club_report import Kpis, club_kpis
from domain.models import Club, Dealer
from domain.models_clubs import ClubAward, ClubScore
from domain.regions import REGIONS
from tasks.clubs.notify import award_requests, awards_markdown
from tasks.common import data_task
from tasks.outbox import NotificationRequest
from tasks.planning.club_report import gather_club_facts


def figures_of(k: Kpis) -> dict[str, Any]:
    """The weighted KPIs of one club's month (missing shares count 0 in the score)."""
    return {
        "activity_participants": k.participants,
        "content_pieces": k.posts,
        "member_growth": k.new_members,
        "referral_share": k.referral_share or 0.0,
        "aftersales_share": k.after_sales_share or 0.0,
        "wechat_members": k.wechat_members or 0,
    }


def score_month(*, session: Session, month: date, settings: Settings) -> int:
    """Score every active club for `month`; returns the rows added (0 on a re-run)."""
    active = dict(session.execute(select(Club.code, Club.id).where(Club.status == "active")).all())
    kpis = [
        k
        for k in club_kpis(gather_club_facts(session=session, month=month, settings=settings))
        if k.key in active
    ]
    figures = {active[k.key]: figures_of(k) for k in kpis}
    placed = rank(
        [ClubFigures(active[k.key], k.region_code, figures[active[k.key]]) for k in kpis],
        settings.club_score_weights,
    )
    rows = [
        {
            "club_id": p.club_id,
            "month": month,
            "region_code": p.region_code,
            "score": p.score,
            "figures": figures[p.club_id],
            "region_place": p.region_place,
            "national_place": p.national_place,
        }
        for p in placed
    ]
    return len(insert_ignoring_conflicts(session, ClubScore, rows, on=["club_id", "month"]))


def ranking(*, session: Session, month: date) -> list[tuple[ClubScore, Club]]:
    return list(
        session.execute(
            select(ClubScore, Club)
            .join(Club, Club.id == ClubScore.club_id)
            .where(ClubScore.month == month)
            .order_by(ClubScore.national_place, Club.code)
        ).all()
    )


def award_year(*, session: Session, year: int, settings: Settings) -> int:
    """The year's top clubs by summed monthly scores, nationally and per region; recorded
    once (keyed by year, scope and place). Returns the awards added."""
    totals = session.execute(
        select(ClubScore.club_id, Club.region_code, func.sum(ClubScore.score))
        .join(Club, Club.id == ClubScore.club_id)
        .where(ClubScore.month >= date(year, 1, 1), ClubScore.month < date(year + 1, 1, 1))
        .group_by(ClubScore.club_id, Club.region_code)
    ).all()
    yearly = {cid: (region, float(total)) for cid, region, total in totals}
    rows = [
        {"year": year, "scope": scope, "place": place, "club_id": cid, "score": round(s, 2)}
        for scope, place, cid, s in awards(
            yearly, national=settings.club_awards_national, regional=settings.club_awards_regional
        )
    ]
    return len(insert_ignoring_conflicts(session, ClubAward, rows, on=["year", "scope", "place"]))


def place_requests(*, session: Session, month: date) -> list[NotificationRequest]:
    """Each scored club's dealer is told the club's places, once per month."""
    rows = ranking(session=session, month=month)
    dealers = dict(session.execute(select(Dealer.id, Dealer.code)).all())
    zh = {r.code: r.name_zh for r in REGIONS}
    return [
        NotificationRequest(
            recipient=f"dealer:{dealers[c.dealer_id]}",
            template="club_rating_place",
            context={
                "club": c.name,
                "month": f"{month:%Y-%m}",
                "score": f"{s.score:g}",
                "national_place": s.national_place,
                "national_count": len(rows),
                "region": zh.get(c.region_code, c.region_code),
                "region_place": s.region_place,
            },
            idem_key=f"club-rating:{month:%Y-%m}:{c.code}",
        )
        for s, c in rows
        if c.dealer_id in dealers
    ]


def ranking_markdown(*, session: Session, month: date) -> str:
    """The national ranking, then one table per region."""
    rows = ranking(session=session, month=month)
    lines = [
        f"# 俱乐部评级 {month:%Y-%m}",
        "",
        "## 全国",
        "",
        "| 名次 | 俱乐部 | 大区 | 评分 |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s.national_place} | {c.name} | {c.region_code} | {s.score:g} |" for s, c in rows]
    for region in sorted({c.region_code for _, c in rows}):
        lines += ["", f"## {region}", "", "| 名次 | 俱乐部 | 评分 |", "|---|---|---|"]
        lines += [
            f"| {s.region_place} | {c.name} | {s.score:g} |"
            for s, c in sorted(rows, key=lambda r: r[0].region_place)
            if c.region_code == region
        ]
    return "\n".join(lines) + "\n"


score_month_task = data_task(score_month)
award_year_task = data_task(award_year)
place_requests_task = data_task(place_requests)
ranking_markdown_task = data_task(ranking_markdown)
award_requests_task = data_task(award_requests)
awards_markdown_task = data_task(awards_markdown)


@task(name="publish-club-ranking", cache_policy=NO_CACHE)
def publish_club_ranking_task(markdown: str, month: date) -> None:
    create_markdown_artifact(
        key=f"club-ranking-{month:%Y-%m}",
        markdown=markdown,
        description=f"Club ranking {month:%Y-%m}",
    )


@task(name="publish-club-awards", cache_policy=NO_CACHE)
def publish_club_awards_task(markdown: str, year: int) -> None:
    create_markdown_artifact(
        key=f"club-awards-{year}", markdown=markdown, description=f"Club awards {year}"
    )
