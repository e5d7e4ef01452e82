"""`clubflow members renew-points`: a gold member's expiring grant renews once by new ledger
rows (balance unchanged); an ordinary member is refused (recorded)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models import Member, PointsEntry
from domain.models_audit import Refusal

runner = CliRunner()
AT = ["--now", "2026-12-01T10:00"]
SH = ZoneInfo("Asia/Shanghai")


def _member(db_url: str, tier: str) -> int:
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == "M000001")).scalar_one()
        session.execute(update(Member).where(Member.id == member.id).values(tier=tier))
        session.execute(PointsEntry.__table__.delete().where(PointsEntry.member_id == member.id))
        session.add(
            PointsEntry(
                member_id=member.id,
                amount=300,
                reason="activity",
                idem_key="t:renew:1",
                occurred_at=datetime(2024, 12, 20, 10, tzinfo=SH),
                expires_on=date(2026, 12, 20),
            )
        )
        return member.id


def _renew(*args: str):
    return runner.invoke(app, ["members", "renew-points", *args], catch_exceptions=False)


def test_a_gold_member_renews_expiring_points_once(world, db_url):
    member_id = _member(db_url, "gold")
    done = _renew("M000001", "--as", "member:M000001", *AT)
    assert done.exit_code == 0, done.output
    assert "M000001: 300 points expiring 2026-12-20 now expire 2027-06-20" in done.output
    again = _renew("M000001", "--as", "hq.manager", *AT)
    assert again.exit_code == 0 and "M000001: no points to renew" in again.output
    with session_scope(db_url) as session:
        rows = session.execute(
            select(PointsEntry.amount, PointsEntry.expires_on)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.id)
        ).all()
        points = session.get(Member, member_id).points
    assert [(a, e) for a, e in rows][1:] == [(-300, None), (300, date(2027, 6, 20))]
    assert points == 300


def test_an_ordinary_member_is_refused_and_it_is_recorded(world, db_url):
    _member(db_url, "ordinary")
    refused = _renew("M000001", "--as", "member:M000001", *AT)
    assert refused.exit_code == 2
    assert "the member is 普通会员(ordinary); points renewal is for 银卡会员、金卡会员" in (
        " ".join(refused.output.split())
    )
    with session_scope(db_url) as session:
        assert session.execute(
            select(Refusal.subject).where(Refusal.action == "members.renew-points")
        ).scalars().all() == ["member:M000001"]
