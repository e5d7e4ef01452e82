"""The daily voucher expiry flow under real Prefect: vouchers past their last day expire,
points come back where the reward says so, the member gets one message, a rerun does
nothing."""

from __future__ import annotations

import pytest
from rewards_support import add_member, add_reward, at, balance_and_ledger

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.rewards import mask_code
from flows.members.voucher_expiry import expire_member_vouchers
from tasks.members.redemption import redeem_reward

pytestmark = pytest.mark.slow


def test_the_daily_run_expires_refunds_and_tells_the_member_once(members_world, sink):
    with session_scope(members_world) as session:
        add_member(session, "R000001", 800, phone="+8613600000201")
        add_reward(session, "WASH-1", voucher_days=3)  # refunds on expiry
        voucher = redeem_reward(
            session=session,
            member_no="R000001",
            reward_code="WASH-1",
            by="member:R000001",
            now=at(2026, 12, 1),
            settings=get_settings(),
        ).voucher

    kept = expire_member_vouchers(now=at(2026, 12, 3, 0))  # its last day: still valid
    first = expire_member_vouchers(now=at(2026, 12, 4, 0))
    again = expire_member_vouchers(now=at(2026, 12, 5, 0))

    assert kept["expired_vouchers"] == 0
    assert first == {"expired_vouchers": 1, "refunded_vouchers": 1, "refunded_points": 300}
    assert again["expired_vouchers"] == 0
    with session_scope(members_world) as session:
        assert balance_and_ledger(session, "R000001") == (800, 800)
    expired = [m for m in sink.to("sms/13600000201") if m.title == "兑换券已过期"]
    assert [m.body.strip() for m in expired] == [
        f"王01，您好：您兑换的「精洗一次」（券码 {mask_code(voucher.code)}）已于2026年12月3日"
        "到期未核销，300 积分已退回，当前积分余额 800 分。"
    ]
