"""Points flows: the monthly expiry, the yearly tier review, interactions and referrals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from members_support import add_member, at, member
from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.members import InteractionInput
from domain.models import PointsEntry
from flows.members.interactions import record_member_interactions
from flows.members.points_expiry import expire_member_points
from flows.members.referrals import reward_referrals
from flows.members.tier_review import review_member_tiers
from tasks.members import grant_points, recompute_members

pytestmark = pytest.mark.slow


def _grant(db_url, member_id, amount, when, key):
    with session_scope(db_url) as session:
        grant_points(
            session=session,
            settings=get_settings(),
            rows=[
                {
                    "member_id": member_id,
                    "amount": amount,
                    "reason": "activity",
                    "idem_key": key,
                    "occurred_at": when,
                }
            ],
        )
        recompute_members(
            session=session, settings=get_settings(), member_ids=[member_id], now=when, notify=False
        )


def _ledger(db_url, member_id):
    with session_scope(db_url) as session:
        return session.execute(
            select(func.sum(PointsEntry.amount)).where(PointsEntry.member_id == member_id)
        ).scalar_one()


def test_monthly_expiry_warns_then_expires_across_the_new_year_once(members_world, sink):
    mid = add_member(members_world, "E1", "+8613600000101", status="active")
    _grant(members_world, mid, 300, at(2024, 12, 20), "e1:a")
    _grant(members_world, mid, 500, at(2025, 2, 10), "e1:b")

    for now in (at(2026, 12, 1, 9), at(2026, 12, 1, 9), at(2027, 1, 1, 9), at(2027, 1, 1, 9)):
        expire_member_points(now=now)

    sms = sink.to("sms/13600000101")
    assert [m.title for m in sms] == ["积分即将到期提醒", "积分到期通知"]
    assert "您有 300 积分将于2026年12月20日起陆续到期" in sms[0].body
    assert "截至2027年1月1日，您有 300 积分已到期失效，当前积分余额 500 分" in sms[1].body
    assert member(members_world, "E1").points == 500 == _ledger(members_world, mid)

    expire_member_points(now=at(2027, 2, 1, 9))  # warns for 2027-02-10
    expire_member_points(now=at(2027, 3, 1, 9))  # expires it
    assert [m.title for m in sink.to("sms/13600000101")][2:] == ["积分即将到期提醒", "积分到期通知"]
    assert member(members_world, "E1").points == 0 == _ledger(members_world, mid)


def test_service_visits_make_silver_and_the_review_takes_it_back_once(members_world, sink):
    add_member(members_world, "V1", "+8613600000102", status="active", name="刘洋")
    visits = [
        InteractionInput(member_no="V1", kind="service", ref=f"RO-{i}", occurred_at=at(2026, 5, i))
        for i in (1, 2, 3)
    ]
    record_member_interactions(interactions=visits, now=at(2026, 5, 3))
    record_member_interactions(interactions=visits, now=at(2026, 5, 3))
    assert member(members_world, "V1").tier == "silver"
    review_member_tiers(now=at(2027, 1, 1, 9))
    review_member_tiers(now=at(2027, 1, 1, 9))
    # Lifetime service visits still earn silver: the review keeps it.
    assert member(members_world, "V1").tier == "silver"
    assert [m.title for m in sink.to("sms/13600000102")] == ["恭喜升级为银卡会员"]
    assert "刘洋，您好：恭喜您升级为银卡会员" in sink.to("sms/13600000102")[0].body


def test_a_referral_pays_both_sides_once_however_often_the_flow_runs(members_world, sink):
    referrer = add_member(members_world, "F1", "+8613600000103", status="active", name="陈杰")
    referee = add_member(
        members_world,
        "F2",
        "+8613600000104",
        status="active",
        name="黄丽",
        referred_by_id=referrer,
        activated_at=at(2026, 6, 1),
    )
    for hours in (0, 1, 25):
        reward_referrals(now=at(2026, 6, 1, 11) + timedelta(hours=hours))

    to_referrer, to_referee = sink.to("sms/13600000103"), sink.to("sms/13600000104")
    assert sorted(m.title for m in to_referrer) == ["恭喜晋升宣节校尉", "推荐奖励积分到账"]
    assert sorted(m.title for m in to_referee) == ["恭喜晋升宣节校尉", "推荐奖励积分到账"]
    reward = next(m for m in to_referrer if m.title == "推荐奖励积分到账")
    assert "您推荐的好友黄丽已完成注册激活，200 积分已到账" in reward.body
    assert member(members_world, "F1").points == 200 == _ledger(members_world, referrer)
    assert member(members_world, "F2").points == 200 == _ledger(members_world, referee)
