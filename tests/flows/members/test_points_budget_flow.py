"""The daily points budget and anomaly check, and HQ's review of a flag from the CLI."""

from __future__ import annotations

import pytest
from members_support import add_member, at
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models_audit import Refusal
from domain.models_points import PointsAnomaly
from flows.members.points_budget import check_points_budget
from tasks.members import grant_points

pytestmark = pytest.mark.slow
runner = CliRunner()


def _row(member_id, amount, reason, key, when):
    return {
        "member_id": member_id,
        "amount": amount,
        "reason": reason,
        "idem_key": key,
        "occurred_at": when,
    }


def test_budget_warns_once_a_month_and_anomalies_are_flagged_once_and_reviewed(
    members_world, sink, settings_env
):
    settings_env(points_monthly_budget_yuan=100.0, points_anomaly_threshold=5000)
    a = add_member(members_world, "B1", "+8613600000301", status="active")
    b = add_member(members_world, "B2", "+8613600000302", status="active")
    with session_scope(members_world) as session:
        grant_points(
            session=session,
            settings=get_settings(),
            rows=[
                _row(a, 6000, "spend:purchase", "txn:B1", at(2026, 10, 12, 10)),
                _row(b, 2500, "activity", "b2:a", at(2026, 10, 12, 11)),
                _row(b, -1000, "redeem", "b2:r", at(2026, 10, 12, 12)),
                _row(b, -300, "expiry", "b2:e", at(2026, 10, 12, 12)),  # not a redemption
                _row(b, 9000, "activity", "b2:sep", at(2026, 9, 30, 12)),  # last month
            ],
        )

    first = check_points_budget(now=at(2026, 10, 13, 8))
    again = check_points_budget(now=at(2026, 10, 14, 8))

    # 8,500 points x 0.01 = 85 yuan of a 100 yuan budget: 85% >= 80%.
    assert first == {
        "issued_points": 8500,
        "redeemed_points": 1000,
        "share": 0.85,
        "warned": 1,
        "flagged": 1,
    }
    assert again["warned"] == 0 and again["flagged"] == 0
    manager = sink.to("role/campaign_manager")
    titles = [m.title for m in manager]
    assert titles.count("积分预算预警：2026年10月已用 85.0%") == 1
    warning = next(m for m in manager if m.title.startswith("积分预算预警"))
    assert "已发放 8,500 积分，折合 85.00 元，已达月度预算 100.00 元的 85.0%" in warning.body
    assert "本月已兑换 1,000 积分（10.00 元）" in warning.body
    anomaly = [m for m in manager if m.title.startswith("积分异常")]
    assert [m.title for m in anomaly] == ["积分异常待复核：1 位会员（2026年10月12日）"]
    assert "· B1 车主B1 +6,000" in anomaly[0].body

    with session_scope(members_world) as session:
        flag = session.execute(select(PointsAnomaly)).scalar_one()
    listed = runner.invoke(app, ["members", "points", "anomalies"])
    assert f"#{flag.id} 2026-10-12 B1 车主B1 +6000 open" in listed.output

    refused = runner.invoke(
        app, ["members", "points", "review", str(flag.id), "--outcome", "cleared", "--as", "agent1"]
    )
    assert refused.exit_code == 2
    assert "reviewing points anomalies is for campaign_manager or finance" in refused.output
    ok = runner.invoke(
        app,
        ["members", "points", "review", str(flag.id), "--outcome", "cleared", "--as", "finance"],
    )
    assert ok.exit_code == 0, ok.output
    assert f"anomaly #{flag.id}: cleared by finance" in ok.output
    twice = runner.invoke(
        app,
        ["members", "points", "review", str(flag.id), "--outcome", "confirmed", "--as", "finance"],
    )
    assert twice.exit_code == 2 and "already cleared" in twice.output
    with session_scope(members_world) as session:
        assert session.get(PointsAnomaly, flag.id).reviewed_by == "finance"
        actors = session.execute(select(Refusal.actor)).scalars().all()
    assert sorted(actors) == ["agent1", "finance"]
    shown = runner.invoke(app, ["members", "points", "budget", "--month", "2026-10-01"])
    assert "2026-10: issued 8500 points (85.00 yuan), redeemed 1000 points (10.00 yuan)" in (
        shown.output
    )
