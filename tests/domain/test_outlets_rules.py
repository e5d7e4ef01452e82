"""Outlet rules: who registers, the risk score, document expiry, status, city cover."""

from __future__ import annotations

from datetime import date

from domain.models_outlets import OutletStatus
from domain.outlets import (
    OutletCover,
    documents_problem,
    expired,
    mask_number,
    outlet_for_city,
    register_refusal,
    reminder_due,
    risk_result,
    status_after,
)
from domain.permissions import Actor

WEIGHTS = {"credit": 0.4, "finance": 0.35, "business": 0.25}


def test_only_the_parent_dealers_staff_register():
    staff = Actor("dealer.be001", "dealer", dealer_id=1)
    assert register_refusal(staff, username="dealer.be001", dealer_id=1) is None
    assert register_refusal(staff, username="dealer.be001", dealer_id=2) == (
        "user 'dealer.be001' is not staff of this outlet's dealer"
    )
    admin = Actor("admin.be001", "club_admin")
    assert "registering an outlet is for dealer staff" in register_refusal(
        admin, username="admin.be001", dealer_id=1
    )
    assert register_refusal(None, username="ghost", dealer_id=1) == "unknown user 'ghost'"


def test_risk_score_is_weighted_and_needs_every_item():
    passed = risk_result(
        {"credit": 80, "finance": 70, "business": 65}, weights=WEIGHTS, pass_mark=60
    )
    assert (passed.score, passed.passed, passed.problem) == (72.8, True, None)
    low = risk_result({"credit": 40, "finance": 50, "business": 50}, weights=WEIGHTS, pass_mark=60)
    assert (low.score, low.passed) == (46.0, False)
    missing = risk_result({"credit": 80}, weights=WEIGHTS, pass_mark=60)
    assert missing.problem == "risk items not scored: finance, business"
    bad = risk_result({"credit": 180, "finance": 1, "business": 1}, weights=WEIGHTS, pass_mark=60)
    assert bad.problem == "scores must be 0-100: credit"


def test_documents_mask_and_expiry():
    assert mask_number("91110105MA01ABCD2X") == "**************CD2X"
    assert mask_number("123") == "***"
    assert documents_problem({"business_licence"}) == (
        "documents missing: tax_registration, organisation_code"
    )
    expires = date(2027, 6, 30)
    assert reminder_due(expires, today=date(2027, 5, 31), reminder_days=30)
    assert not reminder_due(expires, today=date(2027, 5, 30), reminder_days=30)
    assert not expired(expires, today=expires)
    assert expired(expires, today=date(2027, 7, 1))


def test_active_only_with_all_three_reviews_and_no_expired_document():
    all_three = {"qualification", "risk", "contract"}
    pending = OutletStatus.pending
    assert status_after({"qualification", "risk"}, any_expired=False, current=pending) == pending
    assert status_after(all_three, any_expired=False, current=pending) == OutletStatus.active
    assert status_after(all_three, any_expired=True, current=OutletStatus.active) == (
        OutletStatus.suspended
    )
    rejected = OutletStatus.rejected
    assert status_after(all_three, any_expired=False, current=rejected) == rejected


def test_a_city_goes_to_the_first_covering_outlet_by_code():
    covers = [
        OutletCover("O-2", "二号", "BE002", ("廊坊",)),
        OutletCover("O-1", "一号", "BE001", ("廊坊", "保定")),
    ]
    assert outlet_for_city("廊坊", covers).code == "O-1"
    assert outlet_for_city("北京", covers) is None
