"""Pure rules of points by spending, the daily cap, the budget and anomalies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.points_earn import (
    BudgetMonth,
    TxnRow,
    capped_grants,
    check_txn_record,
    is_anomaly,
    month_bounds,
    spending_points,
)


def test_spending_points_are_whole_points_times_the_tier_multiplier():
    assert spending_points(Decimal("880.50"), 1.0, 1.2) == 1056
    assert spending_points(Decimal("100"), 1.0, 1.2) == 120  # no float rounding down to 119
    assert spending_points(Decimal("0.99"), 1.0, 1.0) == 0
    assert spending_points(Decimal("-10"), 1.0, 1.0) == 0


def test_the_daily_cap_counts_what_the_day_already_gave():
    assert capped_grants(0, [1, 10, 5, 5, 2], 20) == [1, 10, 5, 4, 0]
    assert capped_grants(18, [5, 5], 20) == [2, 0]
    assert capped_grants(25, [5], 20) == [0]


def test_the_budget_share_and_its_warning():
    month = BudgetMonth(date(2026, 10, 1), 8_000_000, 100_000, 0.01, 100_000.0)
    assert (month.issued_yuan, month.redeemed_yuan, month.share) == (80_000.0, 1_000.0, 0.8)
    assert month.warns(0.8) and not month.warns(0.81)
    assert not BudgetMonth(date(2026, 10, 1), 5, 0, 0.01, 0.0).warns(0.8)  # no budget set


def test_an_anomaly_is_strictly_beyond_the_threshold():
    assert not is_anomaly(5000, 5000) and is_anomaly(5001, 5000)


def test_month_bounds_are_shanghai_midnights():
    start, end = month_bounds(date(2026, 12, 15))
    assert start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert end.isoformat() == "2027-01-01T00:00:00+08:00"


def test_a_dealer_system_record_is_checked_field_by_field():
    good = {
        "txn_id": "T-1",
        "member_no": "M000001",
        "kind": "配件",
        "amount_yuan": "1,200.456",
        "occurred_at": "2026-10-12T10:00",
    }
    row = check_txn_record(2, good)
    assert isinstance(row, TxnRow)
    assert (row.kind, row.amount_yuan, row.occurred_at.utcoffset().total_seconds()) == (
        "parts",
        Decimal("1200.46"),
        8 * 3600,
    )
    assert check_txn_record(3, {**good, "txn_id": ""}) == ("txn_id", "is empty")
    assert check_txn_record(3, {**good, "amount_yuan": "0"}) == (
        "amount_yuan",
        "'0' is not a positive amount",
    )
    assert check_txn_record(3, {**good, "occurred_at": "yesterday"}) == (
        "occurred_at",
        "'yesterday' is not an ISO time",
    )


def test_every_ledger_reason_reads_as_a_member_would_say_it():
    from domain.points_earn import reason_label

    assert reason_label("spend:service") == "售后消费"
    assert reason_label("redeem:WASH-1") == "积分兑换（WASH-1）"
    assert reason_label("voucher-refund:WASH-1") == "兑换券过期退回（WASH-1）"
    assert reason_label("points renewal of #12") == "积分续期（12）"
    assert reason_label("birthday 2026 (gold)") == "生日月积分（2026 (gold)）"
    assert reason_label("expiry") == "积分过期"
