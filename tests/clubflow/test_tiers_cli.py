"""`clubflow members privileges list/set`: the tier privileges as data; HQ edits them,
anyone else is refused (recorded); the multiplier is the setting, read-only."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models_audit import Refusal
from domain.models_tiers import TierPrivilege

runner = CliRunner()
AT = ["--now", "2026-12-01T10:00"]


def _priv(*args: str):
    return runner.invoke(app, ["members", "privileges", *args], catch_exceptions=False)


def test_hq_sets_a_privilege_and_the_list_shows_it_with_the_multiplier(world, db_url):
    listed = _priv("list", "--tier", "gold")
    assert listed.exit_code == 0, listed.output
    assert "gold extra_maintenance 额外免费保养次数: 2" in listed.output
    assert "gold points_multiplier 积分倍率: 1.5  (setting tier_points_multiplier)" in listed.output

    done = _priv("set", "gold", "extra_maintenance", "3", "--as", "hq.manager", *AT)
    assert done.exit_code == 0, done.output
    assert "gold extra_maintenance 额外免费保养次数: 3" in _priv("list").output
    with session_scope(db_url) as session:
        row = session.execute(
            select(TierPrivilege).where(
                TierPrivilege.tier == "gold", TierPrivilege.code == "extra_maintenance"
            )
        ).scalar_one()
        assert (row.value, row.updated_by) == ("3", "hq.manager")
        assert session.execute(select(TierPrivilege)).scalars().all().__len__() == 12


def test_others_are_refused_and_the_refusal_is_recorded(world, db_url):
    refused = _priv("set", "gold", "extra_maintenance", "9", "--as", "agent1", *AT)
    assert refused.exit_code == 2
    assert "editing tier privileges is for campaign_manager" in refused.output
    multiplier = _priv("set", "gold", "points_multiplier", "3", "--as", "hq.manager", *AT)
    assert multiplier.exit_code == 2 and "tier_points_multiplier" in multiplier.output
    bad = _priv("set", "platinum", "extra_maintenance", "1", "--as", "hq.manager", *AT)
    assert bad.exit_code == 2 and "unknown tier(s) platinum" in bad.output
    with session_scope(db_url) as session:
        refusals = (
            session.execute(select(Refusal.actor).where(Refusal.action == "members.privileges.set"))
            .scalars()
            .all()
        )
    assert refusals == ["agent1", "hq.manager"]
