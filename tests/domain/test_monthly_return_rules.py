"""The monthly return's rules without a database: the answer's checks, the correction window,
the content counts and the report's bonus cells."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.club_report import bonus_share
from domain.monthly_return import (
    ANSWER_FIELDS_ZH,
    ReturnAnswer,
    answer_errors,
    content_counts,
    correction_refusal,
    parse_month,
    return_due,
)

GOOD = dict(sales_units=10, referral_sales_units=2, service_revenue=500, member_service_revenue=50)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"sales_units": -1}, "sales_units: Input should be greater than or equal to 0"),
        ({"referral_sales_units": 11}, "referral_sales_units: 11 is more than"),
        ({"member_service_revenue": 500.5}, "member_service_revenue: 500.5 is more than"),
        ({"wechat_members": -3}, "wechat_members: Input should be greater than or equal to 0"),
    ],
)
def test_each_wrong_figure_is_named(change, named):
    with pytest.raises(ValidationError) as err:
        ReturnAnswer(**{**GOOD, **change})
    assert named in answer_errors(err.value)


def test_errors_speak_the_portal_s_words_when_asked():
    with pytest.raises(ValidationError) as err:
        ReturnAnswer(**{**GOOD, "referral_sales_units": 11})
    assert answer_errors(err.value, labels=ANSWER_FIELDS_ZH).startswith(
        "其中俱乐部转介绍（台） (referral_sales_units): 11 is more than"
    )


def test_parts_equal_to_their_wholes_are_fine():
    answer = ReturnAnswer(sales_units=3, referral_sales_units=3, service_revenue=0,
                          member_service_revenue=0)  # fmt: skip
    assert answer.referral_sales_units == 3


def test_due_on_the_10th_and_corrections_up_to_it():
    due = return_due(date(2026, 11, 1), 10)
    assert due == date(2026, 12, 10)
    assert (
        correction_refusal(answered=False, today=date(2026, 12, 20), due_on=due, corrections=True)
        is None
    )
    assert correction_refusal(answered=True, today=due, due_on=due, corrections=True) is None
    assert "has passed" in correction_refusal(
        answered=True, today=date(2026, 12, 11), due_on=due, corrections=True
    )
    assert "corrections are off" in correction_refusal(
        answered=True, today=date(2026, 12, 2), due_on=due, corrections=False
    )


def test_a_month_is_yyyy_mm():
    assert parse_month("2026-11") == date(2026, 11, 1)
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        parse_month("11/2026")


def test_content_counts_by_kind():
    counts = content_counts(
        [
            ("post", 300, 2, 0),
            ("essence", 150, 2, 0),
            ("self_media", 2600, 3, 2),
            ("repost", 0, 40, 0),
            ("event_registration", 0, 12, 0),
        ]
    )
    assert counts == {
        "posts": 7,
        "reads": 3050,
        "essence": 2,
        "self_media": 2,
        "reposts": 40,
        "event_registrations": 12,
    }


def test_a_bonus_share_says_whether_the_return_is_in():
    assert bonus_share(0.25, answered=True, whole="销量") == "25.0%"
    assert bonus_share(None, answered=True, whole="销量") == "无销量"
    assert bonus_share(None, answered=False, whole="销量") == "— 未提交"
