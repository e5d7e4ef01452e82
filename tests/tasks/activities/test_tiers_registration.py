"""Tier-only activities: registration refuses members of other tiers, naming their tier and
the allowed tiers; nobody of the list is registered; open activities are unchanged."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from clock import WORLD_NOW
from pydantic import ValidationError
from sqlalchemy import func, select, update

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import Settings
from clubflow.world import WorldSize, seed_demo_world
from domain.activities import ActivityProposal
from domain.models import Member, Registration
from tasks.activities.checkin import TierRefusedError, register_members
from tasks.activities.store import approve_activity, get_activity, register_proposal

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings(_env_file=None)
NOW = datetime(2026, 9, 21, 10, tzinfo=SHANGHAI)


def _proposal(**overrides) -> ActivityProposal:
    values = {
        "title": "金卡专属 雨林穿越",
        "activity_class": "C",
        "region": "chengdu",
        "club": "C-CH001",
        "starts_on": date(2026, 10, 11),
        "ends_on": date(2026, 10, 11),
        "proposed_by": "admin.ch001",
    }
    return ActivityProposal(**{**values, **overrides})


@pytest.fixture
def store(sqlite_url) -> str:
    migrate(sqlite_url)
    with session_scope(sqlite_url) as session:
        seed_demo_world(
            session=session, size=WorldSize(clubs_per_region=2, members=10, leads=0), now=WORLD_NOW
        )
        session.execute(update(Member).values(tier="ordinary"))
        session.execute(update(Member).where(Member.member_no == "M000001").values(tier="gold"))
    return sqlite_url


def _approved(url: str, **overrides) -> str:
    with session_scope(url) as session:
        activity = register_proposal(
            session=session, proposal=_proposal(**overrides), now=NOW, settings=SETTINGS
        )
        approve_activity(session=session, code=activity.code, now=NOW, settings=SETTINGS)
    return activity.code


def test_a_gold_only_activity_refuses_an_ordinary_member_and_registers_gold(store):
    code = _approved(store, tiers=["gold", "silver"])
    with session_scope(store) as session:
        assert get_activity(session=session, code=code).tiers == ["silver", "gold"]
    with session_scope(store) as session, pytest.raises(TierRefusedError) as refused:
        register_members(session=session, code=code, member_nos=["M000001", "M000002"], now=NOW)
    assert str(refused.value) == (
        f"activity {code}: member M000002: this activity is for 银卡会员(silver)、金卡会员(gold) "
        "members only; the member is 普通会员(ordinary)"
    )
    with session_scope(store) as session:
        assert register_members(session=session, code=code, member_nos=["M000001"], now=NOW) == 1
        assert session.execute(select(func.count()).select_from(Registration)).scalar() == 1


def test_an_open_activity_registers_every_tier(store):
    code = _approved(store)
    with session_scope(store) as session:
        new = register_members(
            session=session, code=code, member_nos=["M000001", "M000002"], now=NOW
        )
    assert new == 2


def test_an_unknown_tier_in_the_proposal_is_refused():
    with pytest.raises(ValidationError, match="unknown tier"):
        _proposal(tiers=["platinum"])
