"""Spending points in the portal: HQ's catalogue, a member redeeming (once, even when the
form is posted twice), and a dealer's staff writing the voucher off once at the counter."""

from __future__ import annotations

import re
from html import unescape

from portal_client import csrf_of
from rewards_support import balance_and_ledger, messages
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Member
from domain.models_audit import Refusal
from domain.models_rewards import Voucher
from domain.rewards import mask_code
from tasks.members.ledger import grant_points, recompute_members

REWARD = {
    "code": "WASH-1",
    "name": "精洗一次",
    "kind": "car_wash",
    "points": "300",
    "stock": "5",
    "valid_from": "2026-11-01",
    "valid_to": "2027-03-31",
    "voucher_days": "30",
    "refund_on_expiry": "1",
}


def give_points(db_url, no: str, points: int) -> None:
    with session_scope(db_url) as session:
        member = session.execute(select(Member).where(Member.member_no == no)).scalar_one()
        row = {"member_id": member.id, "amount": points, "reason": "adjustment",
               "idem_key": f"test:{no}", "occurred_at": member.joined_at}  # fmt: skip
        grant_points(session=session, rows=[row], settings=get_settings())
        recompute_members(session=session, member_ids=[member.id], now=member.joined_at,
                          notify=False, settings=get_settings())  # fmt: skip


def add_from_the_page(portal, values=REWARD):
    hq = portal.sign_in("hq.manager", "person/hq.manager")
    page = hq.get("/rewards/manage")
    assert page.status_code == 200 and "奖励目录" in page.text
    return hq, hq.post("/rewards/manage", data={"csrf": csrf_of(page.text), **values})


def test_hq_keeps_the_catalogue_and_it_may_only_look(portal, db_url):
    hq, saved = add_from_the_page(portal)
    assert saved.status_code == 200 and "奖励 WASH-1 已新增" in saved.text
    bad = hq.post("/rewards/manage", data={"csrf": csrf_of(saved.text), **REWARD, "points": "x"})
    assert bad.status_code == 400
    assert "无法保存：points: &#39;x&#39; is not a whole number" in bad.text
    it = portal.sign_in("it.lead", "person/it.lead")
    page = it.get("/rewards/manage")
    assert page.status_code == 200 and "WASH-1" in page.text and "保存" not in page.text
    refused = it.post("/rewards/manage", data={"csrf": csrf_of(page.text), **REWARD})
    assert refused.status_code == 403
    with session_scope(db_url) as session:
        actors = session.execute(select(Refusal.actor).where(Refusal.action == "reward.save"))
        assert actors.scalars().all() == ["it.lead"]


def test_a_member_redeems_once_and_the_dealer_writes_the_voucher_off_once(portal, db_url):
    add_from_the_page(portal)
    give_points(db_url, "M000002", 500)
    member = portal.sign_in("13900000002", "sms/13900000002")
    page = member.get("/rewards")
    assert page.status_code == 200 and 'id="balance">500<' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "request_key": re.search(r'name="request_key" value="([^"]+)"', page.text).group(1),
    }
    done = member.post("/rewards/WASH-1/redeem", data=form)
    twice = member.post("/rewards/WASH-1/redeem", data=form)  # a double click: one voucher
    assert done.status_code == 200 and twice.status_code == 200
    with session_scope(db_url) as session:
        [voucher] = session.execute(select(Voucher)).scalars().all()
        assert balance_and_ledger(session, "M000002") == (200, 200)
        [note] = messages(session, "member_voucher_issued")
    code = voucher.code
    assert f"兑换成功：券码 {code}，有效期至 2026-12-30" in done.text
    assert 'id="balance">200<' in done.text and "还差 100 分" in done.text
    assert code in note.body and note.recipient == "member:M000002"

    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    counter = dealer.get("/vouchers/writeoff")
    looked = dealer.post(
        "/vouchers/writeoff", data={"csrf": csrf_of(counter.text), "code": code.lower()}
    )
    text = unescape(looked.text)
    assert looked.status_code == 200
    assert mask_code(code) in text and code not in text.replace(f'value="{code}"', "")
    assert "+86139****0002" in text and "待核销" in text
    confirm = {"csrf": csrf_of(counter.text), "code": code, "confirm": "1"}
    written = dealer.post("/vouchers/writeoff", data=confirm)
    again = dealer.post("/vouchers/writeoff", data=confirm)
    assert f"已核销 {mask_code(code)}：精洗一次" in written.text
    assert again.status_code == 409
    assert "不能核销：the voucher was already written off on 2026-12-01 by dealer.ch001" in (
        unescape(again.text)
    )
    mine = member.get("/rewards")
    assert "已核销" in mine.text

    staff = dealer.get("/rewards")  # the member's page is the member's
    assert staff.status_code == 403
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.actor).order_by(Refusal.id)).all()
    assert [tuple(r) for r in rows] == [
        ("voucher.writeoff", "dealer.ch001"),  # the person at the counter
        ("reward.catalogue", "dealer:CH001"),
    ]
