"""The daily points digest: one message per member per day listing the day's credits."""

from __future__ import annotations

import pytest
from members_support import add_member, at

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from flows.members.points_digest import send_points_digest
from tasks.members import grant_points, recompute_members

pytestmark = pytest.mark.slow


def _row(member_id, amount, reason, key, when):
    return {
        "member_id": member_id,
        "amount": amount,
        "reason": reason,
        "idem_key": key,
        "occurred_at": when,
    }


def _credit(db_url, member_id, rows):
    with session_scope(db_url) as session:
        grant_points(session=session, settings=get_settings(), rows=rows)
        recompute_members(
            session=session,
            settings=get_settings(),
            member_ids=[member_id],
            now=at(2026, 10, 12, 19),
            notify=False,
        )


def test_one_digest_per_member_and_day_lists_activity_spending_and_online_credits(
    members_world, sink
):
    mid = add_member(members_world, "D1", "+8613600000201", status="active")
    row = {"member_id": mid}
    other = add_member(members_world, "D2", "+8613600000202", status="active")
    _credit(
        members_world,
        mid,
        [
            {
                **row,
                "amount": 80,
                "reason": "activity",
                "idem_key": "d1:a",
                "occurred_at": at(2026, 10, 12, 9),
            },
            {
                **row,
                "amount": 880,
                "reason": "spend:service",
                "idem_key": "txn:S1",
                "occurred_at": at(2026, 10, 12, 11),
            },
            {
                **row,
                "amount": 1,
                "reason": "online:signin",
                "idem_key": "d1:s",
                "occurred_at": at(2026, 10, 12, 8),
            },
            # the day before: in that day's digest, not this one
            {
                **row,
                "amount": 50,
                "reason": "activity",
                "idem_key": "d1:old",
                "occurred_at": at(2026, 10, 11, 9),
            },
        ],
    )
    # A redemption is not a credit: D2 gets no digest.
    _credit(
        members_world,
        other,
        [
            {
                "member_id": other,
                "amount": -10,
                "reason": "redeem",
                "idem_key": "d2:r",
                "occurred_at": at(2026, 10, 12, 9),
            }
        ],
    )

    first = send_points_digest(now=at(2026, 10, 12, 20))
    again = send_points_digest(now=at(2026, 10, 12, 21))

    assert first == {"members": 1, "queued": 1}
    assert again == {"members": 1, "queued": 0}
    sms = sink.to("sms/13600000201")
    assert [m.title for m in sms] == ["今日积分到账 961 分（2026年10月12日）"]
    body = sms[0].body
    assert "车主D1，您好：2026年10月12日您共获得 961 积分：" in body
    assert "· App签到 +1" in body and "· 参加活动 +80" in body and "· 售后消费 +880" in body
    assert "当前积分余额 1011 分。" in body
    assert sink.to("sms/13600000202") == []
