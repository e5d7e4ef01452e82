"""Online interactions and service reviews earn small points within the daily cap."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.members import InteractionInput
from domain.models import Member, PointsEntry
from tasks.members.interactions import record_interactions

SH = ZoneInfo("Asia/Shanghai")


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 10, day, hour, 0, tzinfo=SH)


def _record(db_url, items, now):
    with session_scope(db_url) as session:
        return record_interactions(
            session=session,
            interactions=[
                InteractionInput(member_no="M000001", kind=k, ref=r, occurred_at=a)
                for k, r, a in items
            ],
            now=now,
            settings=get_settings(),
        )


def test_online_points_stop_at_the_daily_cap_and_a_reimport_adds_nothing(world, db_url):
    day1 = [
        ("signin", "S-1", _at(12, 8)),  # 1
        ("review", "R-1", _at(12, 9)),  # 10
        ("post", "P-1", _at(12, 10)),  # 5
        ("post", "P-2", _at(12, 11)),  # 5, but only 4 left under the cap of 20
        ("share", "H-1", _at(12, 12)),  # 0: the cap is reached
        ("service", "WO-1", _at(12, 12)),  # a service visit earns no online points
    ]
    _record(db_url, day1[:2], _at(12, 20))
    _record(db_url, day1, _at(12, 21))  # the first two again, and the rest
    _record(db_url, [("share", "H-2", _at(13, 8))], _at(13, 20))  # a new day, a new cap

    with session_scope(db_url) as session:
        member_id, points = session.execute(
            select(Member.id, Member.points).where(Member.member_no == "M000001")
        ).one()
        rows = session.execute(
            select(PointsEntry.reason, PointsEntry.amount)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.occurred_at, PointsEntry.id)
        ).all()
    assert rows == [
        ("online:signin", 1),
        ("online:review", 10),
        ("online:post", 5),
        ("online:post", 4),
        ("online:share", 2),
    ]
    assert points == 22
