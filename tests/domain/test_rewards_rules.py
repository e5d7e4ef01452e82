"""The pure rules of spending points: catalogue rows, who may act, redeem and write-off
refusals, a voucher's validity and expiry, codes and masks."""

from __future__ import annotations

from datetime import date

import pytest

from domain.permissions import Actor
from domain.rewards import (
    RewardTerms,
    TermsError,
    expires,
    mask_code,
    mask_holder,
    normalise_code,
    parse_terms,
    redeem_actor_refusal,
    redeem_refusal,
    refund_points,
    terms_problem,
    voucher_valid_until,
    writeoff_actor_refusal,
    writeoff_refusal,
)

D = date(2026, 12, 1)
ROW = {
    "code": "wash-1",
    "name": "精洗一次",
    "kind": "car_wash",
    "points": "300",
    "stock": "10",
    "valid_from": "2026-11-01",
    "valid_to": "2027-03-31",
    "voucher_days": "",
    "refund_on_expiry": "是",
}


def window(**changes):
    values = dict(
        active=True,
        valid_from=date(2026, 11, 1),
        valid_to=date(2027, 3, 31),
        stock=5,
        price=300,
        balance=300,
        member_status="active",
        day=D,
    )
    return redeem_refusal(**{**values, **changes})


def test_a_catalogue_row_is_read_from_text_and_checked_field_by_field():
    terms = parse_terms(ROW, default_voucher_days=30)
    assert terms == RewardTerms(
        "WASH-1", "精洗一次", "car_wash", 300, 10, date(2026, 11, 1), date(2027, 3, 31), 30, True
    )
    assert terms_problem(terms, max_points=100_000) is None
    with pytest.raises(TermsError) as err:
        parse_terms({**ROW, "points": "三百"}, default_voucher_days=30)
    assert (err.value.field, err.value.reason) == ("points", "'三百' is not a whole number")
    with pytest.raises(TermsError, match="valid_to: '2027-02-30' is not a date"):
        parse_terms({**ROW, "valid_to": "2027-02-30"}, default_voucher_days=30)
    with pytest.raises(TermsError, match="refund_on_expiry: 'maybe': yes or no"):
        parse_terms({**ROW, "refund_on_expiry": "maybe"}, default_voucher_days=30)
    bad = parse_terms({**ROW, "points": "0", "valid_to": "2026-10-01"}, default_voucher_days=30)
    assert terms_problem(bad, max_points=100_000) == "points: 0 is not between 1 and 100000"
    late = parse_terms({**ROW, "valid_to": "2026-10-01"}, default_voucher_days=30)
    assert terms_problem(late, max_points=100_000) == (
        "valid_to: 2026-10-01 is before valid_from 2026-11-01"
    )


def test_redeeming_needs_an_active_member_the_window_stock_and_points():
    assert window() is None
    assert window(balance=299) == "not enough points: the reward costs 300, the balance is 299"
    assert window(stock=0) == "the reward is out of stock"
    assert window(day=date(2026, 10, 31)) == "the reward can be redeemed from 2026-11-01"
    assert window(day=date(2027, 4, 1)) == "the reward could be redeemed until 2027-03-31"
    assert window(active=False) == "the reward is withdrawn from the catalogue"
    assert window(member_status="registered") == "the member is registered, not active"


def test_who_redeems_and_who_writes_off():
    dealer = Actor("dealer.bj1", "dealer", dealer_id=1)
    clerk = Actor("finance", "finance")
    assert redeem_actor_refusal(None, username="member:M1", member_no="M1") is None
    assert redeem_actor_refusal(None, username="member:M2", member_no="M1") == (
        "member:M2 may not redeem for member M1"
    )
    assert redeem_actor_refusal(dealer, username="dealer.bj1", member_no="M1") is None
    assert writeoff_actor_refusal(dealer, username="dealer.bj1") is None
    assert writeoff_actor_refusal(clerk, username="finance") == (
        "user 'finance' is finance; write-off is for dealer"
    )
    assert writeoff_actor_refusal(None, username="member:M1") == "unknown user 'member:M1'"


def test_a_voucher_works_its_days_counting_the_issue_day_then_expires():
    last = voucher_valid_until(D, 30)
    assert last == date(2026, 12, 30)
    assert (
        writeoff_refusal(
            status="issued", valid_until=last, written_off_on=None, written_off_by=None, day=last
        )
        is None
    )
    assert (
        writeoff_refusal(
            status="issued",
            valid_until=last,
            written_off_on=None,
            written_off_by=None,
            day=date(2026, 12, 31),
        )
        == "the voucher expired: it was valid until 2026-12-30"
    )
    assert (
        writeoff_refusal(
            status="written_off",
            valid_until=last,
            written_off_on=D,
            written_off_by="dealer:D1",
            day=D,
        )
        == "the voucher was already written off on 2026-12-01 by dealer:D1"
    )
    assert expires(status="issued", valid_until=last, day=date(2026, 12, 31))
    assert not expires(status="issued", valid_until=last, day=last)
    assert not expires(status="written_off", valid_until=last, day=date(2027, 1, 1))
    assert refund_points(points=300, refund_on_expiry=True) == 300
    assert refund_points(points=300, refund_on_expiry=False) == 0


def test_codes_are_typed_loosely_and_shown_masked():
    assert normalise_code(" k7qd 2mxa-9fpr t3we ") == "K7QD-2MXA-9FPR-T3WE"
    assert mask_code("K7QD-2MXA-9FPR-T3WE") == "****-****-****-T3WE"
    assert mask_holder("王小明", "+8613912345678") == "王** +86139****5678"
