"""`clubflow members import-transactions` as HQ uses it with the dealer system's export."""

from __future__ import annotations

from sqlalchemy import select, update
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Member, MemberTier, PointsEntry
from domain.models_audit import Refusal
from domain.models_points import MemberTransaction

runner = CliRunner()


def _sheet(tmp_path):
    sheet = tmp_path / "bills.csv"
    sheet.write_text(
        "单号,会员号,类型,金额,时间,经销商\n"
        'T-1,M000001,purchase,"199,800.00",2026-10-12T10:00,CH001\n'
        "T-2,M000002,售后,880.5,2026-10-12T11:00,\n"
        "T-3,M000002,parts,abc,2026-10-12T11:00,\n"  # amount refused by line and field
        "T-4,M999999,parts,100,2026-10-12T11:00,\n"  # unknown member
        "T-5,M000003,gift,100,2026-10-12T11:00,\n",  # unknown kind
        encoding="gb18030",
    )
    return sheet


def test_import_transactions_credits_points_by_kind_and_tier_once(world, db_url, tmp_path):
    with session_scope(db_url) as session:
        session.execute(
            update(Member).where(Member.member_no == "M000002").values(tier=MemberTier.silver)
        )
    sheet = _sheet(tmp_path)
    args = ["members", "import-transactions", str(sheet), "--as", "hq.manager"]
    result = runner.invoke(app, [*args, "--now", "2026-10-12T20:00"])
    assert result.exit_code == 2, result.output
    assert "2 transactions credited (200856 points to 2 members), 0 already read, 3 rejected" in (
        result.output
    )
    assert "line 4: amount_yuan: 'abc' is not a number" in result.output
    assert "line 5: member_no: 'M999999' is unknown" in result.output
    assert "line 6: kind: 'gift' is not one of purchase, service, parts" in result.output
    assert "Traceback" not in result.output

    with session_scope(db_url) as session:
        bills = session.execute(
            select(
                MemberTransaction.txn_id, MemberTransaction.kind, MemberTransaction.amount_yuan
            ).order_by(MemberTransaction.txn_id)
        ).all()
        ledger = session.execute(
            select(PointsEntry.idem_key, PointsEntry.amount, PointsEntry.reason)
            .where(PointsEntry.idem_key.like("txn:%"))
            .order_by(PointsEntry.idem_key)
        ).all()
        points = session.execute(
            select(Member.points).where(Member.member_no == "M000002")
        ).scalar_one()
    assert [(t, k, float(a)) for t, k, a in bills] == [
        ("T-1", "purchase", 199800.0),
        ("T-2", "service", 880.5),
    ]
    # 880.5 yuan at 1 point a yuan, x1.2 for silver: 1056 whole points.
    assert ledger == [("txn:T-1", 199800, "spend:purchase"), ("txn:T-2", 1056, "spend:service")]
    assert points == 1056

    again = runner.invoke(app, [*args, "--now", "2026-10-13T20:00"])
    assert "0 transactions credited (0 points to 0 members), 2 already read" in again.output
    with session_scope(db_url) as session:
        assert session.execute(select(MemberTransaction)).all().__len__() == 2


def test_import_transactions_is_refused_to_a_club_admin_and_recorded(world, db_url, tmp_path):
    result = runner.invoke(
        app,
        ["members", "import-transactions", str(_sheet(tmp_path)), "--as", "agent1"],
    )
    assert result.exit_code == 2
    assert "importing transactions is for campaign_manager or it" in result.output
    with session_scope(db_url) as session:
        refusal = session.execute(select(Refusal)).scalar_one()
        assert session.execute(select(MemberTransaction)).first() is None
    assert refusal.action == "members.transactions" and refusal.actor == "agent1"
