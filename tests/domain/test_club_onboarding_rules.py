"""Club onboarding rules: the name standard, grades, officers, checklist and who may act."""

from __future__ import annotations

from datetime import date

import pytest

from clubflow.core.settings import Settings
from domain.club_onboarding import (
    ClubInputError,
    ItemState,
    check_club_name,
    check_grade,
    check_officers,
    club_status,
    hq_refusal,
    missing_required,
    official_account_late,
    register_refusal,
    review_refusal,
    submit_refusal,
)
from domain.permissions import Actor

S = Settings()
NAME = dict(
    separator=S.club_name_separator, parts=S.club_name_parts, alliance_label=S.club_alliance_label
)


def test_a_standard_name_splits_into_its_five_parts():
    assert check_club_name("坦克·羽林·300·成都·越野俱乐部", **NAME) == [
        "坦克",
        "羽林",
        "300",
        "成都",
        "越野俱乐部",
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("坦克-羽林-300-成都-俱乐部", "joined by '·'"),
        ("坦克·羽林·300·成都", "needs 5 non-empty parts"),
        ("坦克·羽林··成都·俱乐部", "needs 5 non-empty parts"),
        ("坦克·联盟·300·成都·俱乐部", "must carry '羽林'"),
    ],
)
def test_a_name_off_the_standard_is_refused_naming_the_field(name, problem):
    with pytest.raises(ClubInputError) as err:
        check_club_name(name, **NAME)
    assert err.value.field == "name"
    assert problem in str(err.value)
    assert str(err.value).startswith("name: ")


def test_grades_and_officers():
    assert check_grade("所") == "province"
    assert check_grade("队") == "county"
    with pytest.raises(ClubInputError, match="grade: must be one of 所/营/队"):
        check_grade("团")
    check_officers({"会长": "a", "军师": "b", "长史": "c"})
    with pytest.raises(ClubInputError, match="officer 长史: missing"):
        check_officers({"会长": "a", "军师": "b"})


def test_the_club_is_active_only_when_every_required_item_passed():
    items = [
        ItemState("name", True, "approved"),
        ItemState("logo", True, "returned"),
        ItemState("official_account", False, "missing"),
    ]
    assert missing_required(items) == ["logo"]
    assert club_status(items) == "pending"
    items[1] = ItemState("logo", True, "approved")
    assert club_status(items) == "active"


def test_the_official_account_is_late_after_its_days_unless_approved():
    reg = date(2027, 3, 1)
    assert not official_account_late(reg, date(2027, 3, 31), days=30, status="missing")
    assert official_account_late(reg, date(2027, 4, 1), days=30, status="missing")
    assert not official_account_late(reg, date(2027, 4, 1), days=30, status="approved")


def test_who_may_register_submit_review_and_add():
    staff = Actor("d1", "dealer", dealer_id=7)
    other = Actor("d2", "dealer", dealer_id=8)
    spec = Actor("s1", "regional_specialist", region_code="chengdu")
    hq = Actor("hq", "campaign_manager")
    assert register_refusal(staff, username="d1", dealer_id=7) is None
    assert "not staff of this dealer" in register_refusal(other, username="d2", dealer_id=7)
    assert submit_refusal(staff, username="d1", dealer_id=7) is None
    assert "evidence is the dealer's" in submit_refusal(spec, username="s1", dealer_id=7)
    assert review_refusal(spec, username="s1", region_code="chengdu") is None
    assert "not the regional specialist of xian" in review_refusal(
        spec, username="s1", region_code="xian"
    )
    assert hq_refusal(hq, username="hq", action="add-dealer") is None
    assert "add-dealer is for campaign_manager" in hq_refusal(
        staff, username="d1", action="add-dealer"
    )
    assert review_refusal(None, username="ghost", region_code="x") == "unknown user 'ghost'"
