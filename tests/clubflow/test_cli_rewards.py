"""`clubflow rewards ...` as HQ, a dealer's staff and a member's helper use them: one-line
errors with exit code 2, the good rows of a file kept beside the bad, refusals recorded."""

from __future__ import annotations

import pytest
from rewards_support import add_member, seed_people
from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from domain.models_audit import Refusal
from domain.models_rewards import Reward, Voucher
from domain.rewards import mask_code

runner = CliRunner()
NOW = ["--now", "2026-12-01T10:00"]


@pytest.fixture
def store(db_url) -> str:
    with session_scope(db_url) as session:
        seed_people(session)
        add_member(session, "M000001", 1000)
    return db_url


def run(*args: str):
    return runner.invoke(app, ["rewards", *args, *NOW])


def test_hq_keeps_the_catalogue_from_options_and_from_a_file(store, tmp_path):
    added = run(
        "add", "wash-1", "--name", "精洗一次", "--kind", "car_wash", "--points", "300",
        "--stock", "10", "--from", "2026-11-01", "--to", "2027-03-31", "--refund",
        "--as", "hq.manager",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "reward WASH-1 added: 精洗一次 (car_wash) 300 points, stock 10" in added.output
    assert "vouchers 30 days, refund on expiry: yes" in added.output
    updated = run("update", "WASH-1", "--stock", "20", "--as", "hq.manager")
    assert "reward WASH-1 updated" in updated.output and "stock 20" in updated.output
    refused = run("update", "WASH-1", "--stock", "5", "--as", "dealer.bj1")
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "error: user 'dealer.bj1' is dealer; the rewards catalogue is for campaign_manager"
    )

    sheet = tmp_path / "rewards.csv"
    sheet.write_text(
        "编号,名称,类别,所需积分,库存,开始日期,结束日期,券有效天数,过期退积分\n"
        "OIL-1,机油保养,maintenance,2000,5,2026-12-01,2027-06-30,60,否\n"
        "CAP-1,品牌帽,hats,200,50,2026-12-01,2027-06-30,,\n"
        "HOUR-1,工时抵扣,labour_credit,abc,5,2026-12-01,2027-06-30,,\n"
        "WASH-1,精洗一次,car_wash,300,20,2026-11-01,2027-03-31,30,是\n",
        encoding="gb18030",
    )
    imported = run("import", str(sheet), "--as", "hq.manager")
    assert imported.exit_code == 2
    lines = imported.output.strip().splitlines()
    assert lines[0] == "rewards: 1 added, 0 updated, 1 unchanged, 2 refused"
    assert lines[1].startswith("error: line 3: reward CAP-1: kind: 'hats' is not one of")
    assert lines[2] == "error: line 4: points: 'abc' is not a whole number"
    listed = runner.invoke(app, ["rewards", "list"])
    assert "OIL-1" in listed.output and "WASH-1" in listed.output
    with session_scope(store) as session:
        stock = dict(session.execute(select(Reward.code, Reward.stock)).all())
        assert stock == {"OIL-1": 5, "WASH-1": 20}
        assert session.execute(select(Refusal.actor)).scalars().all() == [
            "dealer.bj1",
            "hq.manager",
        ]


def test_staff_redeem_for_a_member_and_the_dealer_writes_off_once(store):
    run(
        "add", "WASH-1", "--name", "精洗一次", "--kind", "car_wash", "--points", "300",
        "--stock", "1", "--from", "2026-11-01", "--to", "2027-03-31", "--as", "hq.manager",
    )  # fmt: skip
    redeemed = run("redeem", "M000001", "WASH-1", "--as", "dealer.bj1")
    assert redeemed.exit_code == 0, redeemed.output
    with session_scope(store) as session:
        code = session.execute(select(Voucher.code)).scalar_one()
    assert code not in redeemed.output  # staff see it masked; the member has the message
    assert f"M000001: voucher {mask_code(code)} for WASH-1, 300 points" in redeemed.output
    assert "valid until 2026-12-30; balance 700" in redeemed.output
    empty = run("redeem", "M000001", "WASH-1", "--as", "dealer.bj1")
    assert empty.exit_code == 2
    assert empty.output.strip() == "error: M000001 WASH-1: the reward is out of stock"

    done = run("write-off", code.lower(), "--as", "dealer:D-BJ1")
    assert done.exit_code == 0, done.output
    assert f"voucher {mask_code(code)} written off: 精洗一次 for 王** +86139****0001" in done.output
    twice = run("write-off", code, "--as", "dealer.bj1")
    assert twice.exit_code == 2
    assert twice.output.strip() == (
        f"error: voucher {mask_code(code)}: the voucher was already written off on 2026-12-01 "
        "by dealer:D-BJ1"
    )
    clerk = run("write-off", code, "--as", "hq.manager")
    assert "write-off is for dealer" in clerk.output and clerk.exit_code == 2
    with session_scope(store) as session:
        actions = session.execute(select(Refusal.action).order_by(Refusal.id)).scalars().all()
    assert actions == ["reward.redeem", "voucher.writeoff", "voucher.writeoff"]
