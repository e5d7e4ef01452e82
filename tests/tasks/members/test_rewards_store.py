"""The rewards store on a real SQLite file: the catalogue, redeeming, writing off and
expiring vouchers, with the ledger, the stock, the messages and the refusals they leave."""

from __future__ import annotations

import re

import pytest
from rewards_support import (
    NOW,
    add_member,
    add_reward,
    at,
    balance_and_ledger,
    messages,
    seed_people,
    terms,
)
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import PointsEntry
from domain.models_audit import Refusal
from domain.models_rewards import Reward, Voucher
from domain.rewards import mask_code
from tasks.members import redemption
from tasks.members.redemption import redeem_reward
from tasks.members.rewards_catalogue import list_rewards, save_reward, withdraw_reward
from tasks.members.voucher_expiry import expire_vouchers
from tasks.members.voucher_writeoff import write_off_voucher

CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")


@pytest.fixture
def store(db_url) -> str:
    with session_scope(db_url) as session:
        seed_people(session)
        add_member(session, "M000001", 1000)
        add_reward(session, "WASH-1")  # 300 points, stock 10, 30 days, refund on expiry
        add_reward(
            session,
            "CAP-1",
            kind="brand_goods",
            name="品牌帽",
            points=200,
            stock=1,
            refund_on_expiry=False,
            voucher_days=7,
        )
    return db_url


def redeem(session, code="WASH-1", no="M000001", by=None, now=NOW, **kw):
    return redeem_reward(
        session=session,
        member_no=no,
        reward_code=code,
        by=by or f"member:{no}",
        now=now,
        settings=get_settings(),
        **kw,
    )


def refusals(session) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(Refusal.action, Refusal.actor, Refusal.reason).order_by(Refusal.id)
    )
    return [tuple(r) for r in rows]


def test_the_catalogue_is_hqs_and_saving_the_same_row_changes_nothing(store):
    with session_scope(store) as session:
        again = save_reward(
            session=session,
            terms=terms("WASH-1"),
            by="hq.manager",
            now=NOW,
            settings=get_settings(),
        )
        more = save_reward(
            session=session,
            terms=terms("WASH-1", stock=50),
            by="hq.manager",
            now=NOW,
            settings=get_settings(),
        )
        clerk = save_reward(
            session=session, terms=terms("WASH-2"), by="finance", now=NOW, settings=get_settings()
        )
        bad = save_reward(
            session=session,
            terms=terms("WASH-3", kind="fuel"),
            by="hq.manager",
            now=NOW,
            settings=get_settings(),
        )
        gone = withdraw_reward(session=session, code="CAP-1", by="hq.manager", now=NOW)
        assert (again.created, again.changed) == (False, False)
        assert (more.changed, more.reward.stock) == (True, 50)
        assert clerk.refused == (
            "user 'finance' is finance; the rewards catalogue is for campaign_manager"
        )
        assert bad.refused.startswith("reward WASH-3: kind: 'fuel' is not one of car_wash")
        assert gone.reward.active is False
        assert [r.code for r in list_rewards(session=session, on=NOW.date())] == ["WASH-1"]
        assert [r.code for r in list_rewards(session=session)] == ["CAP-1", "WASH-1"]
        assert [a for a, *_ in refusals(session)] == ["reward.save", "reward.save"]


def test_a_redemption_takes_the_points_once_by_a_ledger_row_and_tells_the_member(store):
    with session_scope(store) as session:
        outcome = redeem(session, request_key="form-1")
        replay = redeem(session, request_key="form-1")
        voucher = outcome.voucher
        assert CODE.match(voucher.code)
        assert (voucher.status, voucher.points, voucher.valid_until.isoformat()) == (
            "issued",
            300,
            "2026-12-30",
        )
        assert replay.replayed and replay.voucher.id == voucher.id
        assert outcome.balance == 700
        assert balance_and_ledger(session, "M000001") == (700, 700)
        row = session.execute(select(PointsEntry).where(PointsEntry.amount < 0)).scalar_one()
        assert (row.amount, row.reason, row.idem_key) == (
            -300,
            "redeem:WASH-1",
            f"redeem:voucher:{voucher.id}",
        )
        assert (
            session.execute(select(Reward.stock).where(Reward.code == "WASH-1")).scalar_one() == 9
        )
        [note] = messages(session, "member_voucher_issued")
        assert note.recipient == "member:M000001"
        assert note.title == "积分兑换成功"
        assert note.body.strip() == (
            f"王01，您好：您已用 300 积分兑换「精洗一次」，券码 {voucher.code}，"
            "有效期至2026年12月30日，请到经销商门店出示券码核销。当前积分余额 700 分。"
        )


def test_redemption_refusals_name_the_reason_and_are_recorded(store):
    with session_scope(store) as session:
        add_member(session, "M000002", 100)
        assert redeem(session, no="M000002").refused == (
            "not enough points: the reward costs 300, the balance is 100"
        )
        assert redeem(session, "CAP-1").refused is None
        assert redeem(session, "CAP-1").refused == "the reward is out of stock"
        assert redeem(session, now=at(2027, 4, 1)).refused == (
            "the reward could be redeemed until 2027-03-31"
        )
        assert redeem(session, by="member:M000002").refused == (
            "member:M000002 may not redeem for member M000001"
        )
        assert redeem(session, by="finance").refused == (
            "user 'finance' is finance; redeem is for campaign_manager or club_admin or dealer"
        )
        assert redeem(session, by="dealer.bj1").refused is None  # on the member's behalf
        assert [a for a, *_ in refusals(session)] == ["reward.redeem"] * 5
        assert balance_and_ledger(session, "M000001") == (500, 500)
        assert balance_and_ledger(session, "M000002") == (100, 100)


def test_the_conditional_updates_refuse_when_the_first_check_saw_stale_numbers(store, monkeypatch):
    """What a request that lost the race meets: the first check passed, the stock or the
    points were gone by its update. Nothing is taken, the refusal says why."""
    monkeypatch.setattr(redemption, "redeem_refusal", lambda **_: None)
    with session_scope(store) as session:
        add_member(session, "M000002", 250)
        assert redeem(session, "CAP-1").refused is None
        assert redeem(session, "CAP-1", no="M000002").refused == "the reward is out of stock"
        assert redeem(session, no="M000002").refused == (
            "not enough points: the reward costs 300, the balance is 250"
        )
        assert balance_and_ledger(session, "M000002") == (250, 250)
        stock = dict(session.execute(select(Reward.code, Reward.stock)).all())
        assert stock == {"CAP-1": 0, "WASH-1": 10}


def test_a_voucher_is_written_off_once_within_its_validity_by_dealer_staff(store):
    with session_scope(store) as session:
        code = redeem(session).voucher.code
        late = redeem(session, "CAP-1").voucher.code
        typed = code.lower().replace("-", " ")
        assert write_off_voucher(session=session, code=code, by="finance", now=NOW).refused == (
            "user 'finance' is finance; write-off is for dealer"
        )
        assert (
            write_off_voucher(session=session, code="AAAA-BBBB", by="dealer.bj1", now=NOW).refused
            == "no voucher with this code"
        )
        done = write_off_voucher(session=session, code=typed, by="dealer.bj1", now=at(2026, 12, 5))
        assert done.refused is None and done.reward.code == "WASH-1"
        again = write_off_voucher(
            session=session, code=code, by="dealer:D-BJ1", now=at(2026, 12, 6)
        )
        assert again.refused == "the voucher was already written off on 2026-12-05 by dealer.bj1"
        expired = write_off_voucher(
            session=session, code=late, by="dealer.bj1", now=at(2026, 12, 8)
        )
        assert expired.refused == "the voucher expired: it was valid until 2026-12-07"
        voucher = session.execute(select(Voucher).where(Voucher.code == code)).scalar_one()
        assert (voucher.status, voucher.written_off_by, voucher.dealer_id) == (
            "written_off",
            "dealer.bj1",
            done.voucher.dealer_id,
        )
        assert voucher.dealer_id is not None
        reasons = refusals(session)
        assert [a for a, *_ in reasons] == ["voucher.writeoff"] * 4
        assert all(code not in r for _, _, r in reasons)  # the code is never in the record


def test_expired_vouchers_return_their_points_by_policy_and_the_member_is_told_once(store):
    with session_scope(store) as session:
        wash = redeem(session).voucher  # refund on expiry, valid to 2026-12-30
        cap = redeem(session, "CAP-1").voucher  # no refund, valid to 2026-12-07
        used = redeem(session).voucher
        write_off_voucher(session=session, code=used.code, by="dealer.bj1", now=at(2026, 12, 2))
        assert balance_and_ledger(session, "M000001") == (200, 200)

        early = expire_vouchers(
            session=session,
            as_of=at(2026, 12, 7).date(),
            now=at(2026, 12, 7),
            settings=get_settings(),
        )
        first = expire_vouchers(
            session=session,
            as_of=at(2026, 12, 31).date(),
            now=at(2026, 12, 31),
            settings=get_settings(),
        )
        second = expire_vouchers(
            session=session,
            as_of=at(2027, 1, 1).date(),
            now=at(2027, 1, 1),
            settings=get_settings(),
        )

        assert early.vouchers == 0
        assert (first.vouchers, first.refunded_vouchers, first.refunded_points) == (2, 1, 300)
        assert second.vouchers == 0
        statuses = dict(session.execute(select(Voucher.id, Voucher.status)).all())
        assert statuses == {wash.id: "expired", cap.id: "expired", used.id: "written_off"}
        assert balance_and_ledger(session, "M000001") == (500, 500)
        refund = session.execute(
            select(PointsEntry).where(PointsEntry.reason.startswith("voucher"))
        ).scalar_one()
        assert (refund.amount, refund.reason, refund.idem_key) == (
            300,
            "voucher-refund:WASH-1",
            f"voucher-refund:{wash.id}",
        )
        notes = messages(session, "member_voucher_expired")
        assert [n.title for n in notes] == ["兑换券已过期", "兑换券已过期"]
        bodies = sorted(n.body.strip() for n in notes)
        assert bodies == sorted(
            [
                f"王01，您好：您兑换的「精洗一次」（券码 {mask_code(wash.code)}）已于2026年12月30日"
                "到期未核销，300 积分已退回，当前积分余额 500 分。",
                f"王01，您好：您兑换的「品牌帽」（券码 {mask_code(cap.code)}）已于2026年12月7日"
                "到期未核销，按该奖励规则积分不予退回，当前积分余额 500 分。",
            ]
        )
        assert wash.code not in "".join(bodies)
