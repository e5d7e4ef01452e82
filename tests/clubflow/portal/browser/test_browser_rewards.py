"""Spending points in Chromium: a member redeems a car wash on their phone and gets the code
by message; the dealer's staff type it at the counter, see the member masked, write it off;
the same code again is shown as written off, with no button to do it twice."""

from __future__ import annotations

from urllib.parse import urlsplit

from browser_support import browser_sign_in
from rewards_support import add_reward, balance_and_ledger
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Member
from domain.models_rewards import Voucher
from domain.rewards import mask_code
from tasks.members.ledger import grant_points, recompute_members


def _seed(db_url) -> None:
    with session_scope(db_url) as session:
        add_reward(session, "WASH-1")  # 300 points, 30 days
        member = session.execute(select(Member).where(Member.member_no == "M000002")).scalar_one()
        row = {"member_id": member.id, "amount": 500, "reason": "adjustment",
               "idem_key": "browser:M000002", "occurred_at": member.joined_at}  # fmt: skip
        grant_points(session=session, rows=[row], settings=get_settings())
        recompute_members(session=session, member_ids=[member.id], now=member.joined_at,
                          notify=False, settings=get_settings())  # fmt: skip


def test_a_member_redeems_on_the_phone_and_the_dealer_writes_it_off(
    portal, db_url, served, phone, desktop
):
    _seed(db_url)
    browser_sign_in(
        phone, served.base_url, served.sink, "13900000002", "sms/13900000002",
        next_path="/rewards",
    )  # fmt: skip
    assert urlsplit(phone.url).path == "/rewards"
    assert phone.inner_text("#balance") == "500"
    phone.get_by_role("button", name="兑换 WASH-1").click()
    phone.wait_for_selector(".notice")
    assert phone.inner_text("#balance") == "200"
    with session_scope(db_url) as session:
        code = session.execute(select(Voucher.code)).scalar_one()
        assert balance_and_ledger(session, "M000002") == (200, 200)
    assert f"兑换成功：券码 {code}" in phone.inner_text(".notice")
    portal.app.state.portal.deliver()  # the minute's delivery run
    [sms] = [m for m in served.sink.to("sms/13900000002") if m.title == "积分兑换成功"]
    assert f"券码 {code}，有效期至2026年12月30日" in sms.body

    browser_sign_in(
        desktop, served.base_url, served.sink, "dealer.ch001", "person/dealer.ch001",
        next_path="/vouchers/writeoff",
    )  # fmt: skip
    desktop.fill("#code", code.lower().replace("-", " "))
    desktop.get_by_role("button", name="查询").click()
    card = desktop.inner_text("#voucher")
    assert mask_code(code) in card and "+86139****0002" in card and "待核销" in card
    assert code not in card
    desktop.get_by_role("button", name="确认核销").click()
    desktop.wait_for_selector(".notice")
    assert f"已核销 {mask_code(code)}：精洗一次" in desktop.inner_text(".notice")
    assert desktop.inner_text("#voucher-status") == "已核销"
    assert desktop.get_by_role("button", name="确认核销").count() == 0

    desktop.fill("#code", code)
    desktop.get_by_role("button", name="查询").click()
    assert desktop.inner_text("#voucher-status") == "已核销"
    assert desktop.get_by_role("button", name="确认核销").count() == 0
    with session_scope(db_url) as session:
        voucher = session.execute(select(Voucher)).scalar_one()
        assert (voucher.status, voucher.written_off_by) == ("written_off", "dealer.ch001")
