"""The store side of planning on SQLite and PostgreSQL: idempotent bulk writes and the
report's GROUP BY queries (FILTER clauses, time-zone bounds) give the same answers on both."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.world import WorldSize, seed_demo_world
from domain.models import Club, Member
from domain.models_planning import ClubSlot, QuarterPlanRecord, RotationHosting
from domain.rotation import Override, Quarter, RotationError
from tasks.planning.club_report import gather_club_facts
from tasks.planning.plans import build_quarter_plan, choose_crossing_host, store_quarter_plan

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 9, tzinfo=SH)


@pytest.fixture
def store(any_db_url, settings_env):
    settings_env(database_url=any_db_url)
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=3, members=0, leads=0))
    return any_db_url


def _plan(url: str, quarter: Quarter, override: Override | None = None):
    with session_scope(url) as session:
        choice = choose_crossing_host(
            session=session, quarter=quarter, override=override, decided_by="t", now=NOW
        )
        plan = build_quarter_plan(
            session=session, quarter=quarter, hosting=choice.hosting, settings=get_settings()
        )
        stored = store_quarter_plan(session=session, plan=plan, planned_by="t", now=NOW)
    return choice, plan, stored


def test_storing_a_plan_twice_writes_each_row_once(store):
    first = _plan(store, Quarter(2027, 2))
    again = _plan(store, Quarter(2027, 2))
    assert first[0].hosting == again[0].hosting
    assert (first[2].created, first[2].slots_added) == (True, 63)
    assert (again[2].created, again[2].slots_added) == (False, 0)
    with session_scope(store) as session:
        counts = [
            session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (RotationHosting, QuarterPlanRecord, ClubSlot)
        ]
    assert counts == [1, 1, 63]


def test_the_rotation_continues_from_the_stored_history(store):
    hosts = [_plan(store, Quarter(2027, q))[0].hosting.region for q in (1, 2, 3, 4)]
    assert hosts == ["lanzhou", "beijing", "chengdu", "guangzhou"]
    with pytest.raises(RotationError, match="cannot host in any month"):
        _plan(store, Quarter(2028, 3), Override("shenyang", "夏季冰雪"))


def test_member_growth_counts_by_shanghai_month_on_both_databases(store):
    with session_scope(store) as session:
        club_id = session.execute(select(Club.id).where(Club.code == "C-CH001")).scalar_one()
        for n, joined in enumerate(
            [
                datetime(2026, 9, 30, 12, tzinfo=SH),
                datetime(2026, 10, 1, 0, 10, tzinfo=SH),  # still 30 Sep in UTC
                datetime(2026, 10, 31, 23, 50, tzinfo=SH),
                datetime(2026, 11, 1, 0, 10, tzinfo=SH),  # still 31 Oct in UTC
            ]
        ):
            session.add(
                Member(
                    member_no=f"G{n}",
                    name="车主",
                    phone=f"+861380000000{n}",
                    club_id=club_id,
                    joined_at=joined,
                )
            )
    with session_scope(store) as session:
        facts = {
            f.club_code: f
            for f in gather_club_facts(
                session=session, month=date(2026, 10, 1), settings=get_settings()
            )
        }
    assert (facts["C-CH001"].members_at_start, facts["C-CH001"].new_members) == (1, 2)
    assert (facts["C-CH002"].members_at_start, facts["C-CH002"].new_members) == (0, 0)
    assert len(facts) == 21
