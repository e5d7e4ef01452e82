"""The deal's stages: allowed moves as data, the one check that refuses a wrong move, dates,
lost reasons, who may record, and the dealer system's rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.deals import (
    DEAL_MOVES,
    DealRejected,
    DealStage,
    check_deal_move,
    check_follow_up,
    follow_up_refusal,
    parse_deal_rows,
    parse_stage,
)
from domain.permissions import Actor

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 12, 12, 0, tzinfo=SH)
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=SH)


def test_forward_moves_may_skip_and_lost_ends_before_the_order():
    assert check_deal_move("accepted", "contacted") == DealStage.contacted
    assert check_deal_move("contacted", "visited") == DealStage.visited  # a walk-in
    assert check_deal_move("visited", "order") == DealStage.order
    assert check_deal_move("test_drive", "lost") == DealStage.lost
    assert check_deal_move("order", "delivered") == DealStage.delivered
    with pytest.raises(DealRejected, match="已到店 visited cannot go to 已联系 contacted"):
        check_deal_move("visited", "contacted")
    with pytest.raises(DealRejected, match="cannot go to 战败 lost"):
        check_deal_move("order", "lost")
    with pytest.raises(DealRejected, match="cannot go to 已交车 delivered"):
        check_deal_move("test_drive", "delivered")  # delivered only after the order
    for closed in ("lost", "delivered"):
        assert DEAL_MOVES[DealStage(closed)] == frozenset()
        with pytest.raises(DealRejected, match="the deal is closed"):
            check_deal_move(closed, "order")


def test_stages_are_read_by_label_or_code():
    assert parse_stage("已试驾") == parse_stage("test_drive") == DealStage.test_drive
    assert parse_stage("战败") == DealStage.lost
    with pytest.raises(DealRejected, match="unknown stage '签约'"):
        parse_stage("签约")
    with pytest.raises(DealRejected, match="accepting the hand-off"):
        parse_stage("accepted")


def _check(stage, *, current="accepted", at=T0 + timedelta(hours=1), **kw):
    return check_follow_up(current=current, current_at=T0, stage=stage, at=at, now=NOW, **kw)


def test_a_step_is_dated_between_the_last_step_and_now():
    assert _check("contacted").at == T0 + timedelta(hours=1)
    with pytest.raises(DealRejected, match="is before the deal's last step") as before:
        _check("contacted", at=T0 - timedelta(minutes=1))
    assert before.value.field == "at"
    with pytest.raises(DealRejected, match="is in the future"):
        _check("contacted", at=NOW + timedelta(minutes=1))


def test_lost_needs_a_reason_from_the_list_and_other_needs_a_note():
    lost = _check("lost", current="visited", reason="预算不足")
    assert (lost.stage, lost.reason) == (DealStage.lost, "budget")
    with pytest.raises(DealRejected, match="lost needs a reason") as missing:
        _check("lost")
    assert missing.value.field == "reason"
    with pytest.raises(DealRejected, match="unknown lost reason '太贵'"):
        _check("lost", reason="太贵")
    with pytest.raises(DealRejected, match="needs a note") as other:
        _check("lost", reason="其他")
    assert other.value.field == "note"
    assert _check("lost", reason="其他", note="客户出国").note == "客户出国"
    with pytest.raises(DealRejected, match="a reason is only for lost"):
        _check("visited", reason="预算不足")


def test_only_the_accepting_dealer_or_hq_may_record():
    def refusal(actor):
        return follow_up_refusal(actor, username="x", accepted_dealer_id=7, lead_id=3)

    assert refusal(Actor("dealer.ch001", "dealer", dealer_id=7)) is None
    assert refusal(Actor("dealer:CH001", "dealer", dealer_id=7)) is None
    assert refusal(Actor("hq.manager", "campaign_manager")) is None
    assert "may not record the follow-up of lead 3" in refusal(
        Actor("dealer.ch002", "dealer", dealer_id=8)
    )
    assert "agent1 (call_agent) may not" in refusal(Actor("agent1", "call_agent"))
    assert refusal(None) == "unknown user 'x'"
    assert "has not been accepted" in follow_up_refusal(
        Actor("dealer.ch001", "dealer", dealer_id=7),
        username="dealer.ch001",
        accepted_dealer_id=None,
        lead_id=3,
    )


def test_dealer_system_rows_are_checked_naming_line_and_field():
    data = (
        "记录编号,线索编号,阶段,时间,经销商,战败原因\n"
        "R1,5,已到店,2026-10-13 15:00,CH001,\n"
        "R2,x,已到店,2026-10-13 15:00,CH001,\n"
        "R3,5,签约,2026-10-13 15:00,CH001,\n"
        "R4,5,已下订,昨天,CH001,\n"
        ",5,已下订,2026-10-14,CH001,\n"
    ).encode("gbk")
    rows, refused = parse_deal_rows(data)
    assert [(r.line_no, r.external_id, r.lead_id, r.stage, r.dealer) for r in rows] == [
        (2, "R1", 5, DealStage.visited, "CH001")
    ]
    assert rows[0].at == datetime(2026, 10, 13, 15, 0, tzinfo=SH)
    assert [line.split(":")[0:2] for line in refused] == [
        ["line 3", " lead_id"],
        ["line 4", " stage"],
        ["line 5", " at"],
        ["line 6", " id"],
    ]
