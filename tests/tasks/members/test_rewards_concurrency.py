"""Exactly once under concurrency, on SQLite and on PostgreSQL: two requests for the last
points, or the last voucher in stock, or the same write-off, arrive together (two threads,
two connections, released by one barrier). One wins; the other is refused with its reason;
the balance is the ledger's sum and never below 0; the stock never below 0."""

from __future__ import annotations

import threading

import pytest
from rewards_support import NOW, add_member, add_reward, balance_and_ledger, seed_people
from sqlalchemy import func, select

from clubflow.core.db import get_engine, migrate, session_scope
from clubflow.core.settings import get_settings
from domain.models import PointsEntry
from domain.models_audit import Refusal
from domain.models_rewards import Reward, Voucher
from tasks.members.redemption import redeem_reward
from tasks.members.voucher_writeoff import write_off_voucher

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(any_db_url, settings_env) -> str:
    settings_env(database_url=any_db_url)
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_people(session)
    yield any_db_url
    get_engine(any_db_url).dispose()


def together(*calls):
    """Run each call in its own thread and transaction, released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            with session_scope(get_settings().database_url) as session:
                results[i] = call(session)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def redeem(no: str, code: str):
    def call(session):
        return redeem_reward(
            session=session,
            member_no=no,
            reward_code=code,
            by=f"member:{no}",
            now=NOW,
            settings=get_settings(),
        )

    return call


def test_two_redemptions_for_the_last_points_one_wins(store):
    with session_scope(store) as session:
        add_member(session, "M000001", 500)
        add_reward(session, "WASH-1", points=500)
        add_reward(session, "OIL-1", points=500, kind="maintenance", name="机油保养")

    results = together(redeem("M000001", "WASH-1"), redeem("M000001", "OIL-1"))

    won = [r for r in results if r.refused is None]
    lost = [r for r in results if r.refused is not None]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].refused.startswith("not enough points: the reward costs 500, the balance is 0")
    with session_scope(store) as session:
        assert balance_and_ledger(session, "M000001") == (0, 0)
        stock = dict(session.execute(select(Reward.code, Reward.stock)).all())
        assert sorted(stock.values()) == [9, 10]  # the loser's stock was put back
        assert session.execute(select(func.count(Voucher.id))).scalar_one() == 1
        redeems = (
            session.execute(
                select(PointsEntry.amount).where(PointsEntry.reason.startswith("redeem"))
            )
            .scalars()
            .all()
        )
        assert redeems == [-500]
        refusals = session.execute(select(Refusal.action, Refusal.actor)).all()
        assert [tuple(r) for r in refusals] == [("reward.redeem", "member:M000001")]


def test_two_members_for_the_last_voucher_in_stock_one_wins(store):
    with session_scope(store) as session:
        add_member(session, "M000001", 1000)
        add_member(session, "M000002", 1000)
        add_reward(session, "CAP-1", points=200, stock=1, kind="brand_goods", name="品牌帽")

    results = together(redeem("M000001", "CAP-1"), redeem("M000002", "CAP-1"))

    assert sorted(r.refused or "ok" for r in results) == ["ok", "the reward is out of stock"]
    with session_scope(store) as session:
        assert session.execute(select(Reward.stock)).scalar_one() == 0
        balances = sorted(balance_and_ledger(session, no) for no in ("M000001", "M000002"))
        assert balances == [(800, 800), (1000, 1000)]
        assert session.execute(select(func.count(Voucher.id))).scalar_one() == 1


def test_two_counters_writing_off_one_voucher_one_wins(store):
    with session_scope(store) as session:
        add_member(session, "M000001", 1000)
        add_reward(session, "WASH-1")
        code = redeem("M000001", "WASH-1")(session).voucher.code

    def write_off(session):
        return write_off_voucher(session=session, code=code, by="dealer.bj1", now=NOW)

    results = together(write_off, write_off)

    refused = sorted(r.refused or "ok" for r in results)
    assert refused[0] == "ok"
    assert refused[1] == "the voucher was already written off on 2026-12-01 by dealer.bj1"
    with session_scope(store) as session:
        voucher = session.execute(select(Voucher)).scalar_one()
        assert (voucher.status, voucher.written_off_by) == ("written_off", "dealer.bj1")
