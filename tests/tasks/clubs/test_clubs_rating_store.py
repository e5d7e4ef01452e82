"""Monthly scores from the club report's figures: every active club once, places nationally
and per region; yearly awards recorded once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.club_rating import score
from domain.models import Club
from domain.models_clubs import ClubAward
from tasks.clubs.rating import award_year, ranking, score_month

MONTH = date(2026, 11, 1)


def test_every_active_club_is_scored_once_and_placed(db_url, world):
    settings = get_settings()
    with session_scope(db_url) as session:
        pending = session.execute(select(Club).where(Club.code == "C-CH002")).scalar_one()
        pending.status = "pending"
        active = session.execute(select(Club).where(Club.status == "active")).scalars().all()
        assert score_month(session=session, month=MONTH, settings=settings) == len(active)
        assert score_month(session=session, month=MONTH, settings=settings) == 0
        rows = ranking(session=session, month=MONTH)
        assert "C-CH002" not in [c.code for _, c in rows]
        assert len(rows) == len(active)
        for s, _ in rows:
            assert s.score == score(s.figures, settings.club_score_weights)
        scores = [s.score for s, _ in rows]
        assert scores == sorted(scores, reverse=True)
        assert rows[0][0].national_place == 1
        for region in {c.region_code for _, c in rows}:
            places = [s.region_place for s, c in rows if c.region_code == region]
            assert places[0] == 1 and places == sorted(places)
        assert award_year(session=session, year=2026, settings=settings) == 3 + len(
            {c.region_code for _, c in rows}
        )
        assert award_year(session=session, year=2026, settings=settings) == 0
        top = session.execute(
            select(ClubAward).where(ClubAward.scope == "national", ClubAward.place == 1)
        ).scalar_one()
        assert top.club_id == rows[0][0].club_id
