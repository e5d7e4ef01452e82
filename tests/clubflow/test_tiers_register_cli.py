"""`clubflow activity register` on a gold-only activity refuses an ordinary member in one
line naming the tiers, and the refusal is recorded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Activity, Club, Member, Registration
from domain.models_audit import Refusal

runner = CliRunner()


def test_an_ordinary_member_is_refused_by_a_gold_only_activity(world, db_url):
    with session_scope(db_url) as session:
        club = session.execute(select(Club).where(Club.code == "C-CH001")).scalar_one()
        session.add(
            Activity(code="T-GOLD", title="金卡专属", klass="D", region_code="chengdu",
                     club_id=club.id, starts_on=date(2026, 12, 20), ends_on=date(2026, 12, 20),
                     status="approved", proposed_by="admin.ch001", tiers=["gold"])
        )  # fmt: skip
        session.execute(update(Member).where(Member.member_no == "M000002").values(tier="ordinary"))
    done = runner.invoke(
        app,
        ["activity", "register", "T-GOLD", "M000002", "--as", "admin.ch001",
         "--now", "2026-12-01T10:00"],
    )  # fmt: skip
    assert done.exit_code == 2
    assert (
        "activity T-GOLD: member M000002: this activity is for 金卡会员(gold) members only; "
        "the member is 普通会员(ordinary)"
    ) in " ".join(done.output.split())
    with session_scope(db_url) as session:
        assert session.execute(select(Registration)).scalars().all() == []
        refusals = session.execute(
            select(Refusal.subject, Refusal.actor).where(Refusal.action == "activity.register")
        ).all()
    assert [tuple(r) for r in refusals] == [("activity:T-GOLD", "admin.ch001")]
