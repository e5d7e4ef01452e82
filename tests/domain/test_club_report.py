from __future__ import annotations

from datetime import date

import pytest

from domain.club_report import (
    ClubFacts,
    club_kpis,
    feedback_due,
    first_working_day,
    is_first_working_day_of_month,
    percent,
    region_kpis,
    report_month,
)

# A small world, figures by hand:
#   C-CH001 (chengdu, dealer CH001): 2 activities with 12 + 8 check-ins; 3 posts read 900;
#     40 members on the 1st, 4 joined; sold 20 cars, 5 referred; service ¥100,000 of which
#     club members ¥30,000.
#   C-CH002 (chengdu, dealer CH002): nothing held, 1 post read 100; 10 members, 1 joined;
#     sold 10, 0 referred; no after-sales figures reported.
#   C-BE001 (beijing, no return): 1 activity, 6 check-ins; 0 members at start, 2 joined.
FACTS = [
    ClubFacts(1, "C-CH001", "成都车友会", "chengdu", "CH001", 2, 20, 3, 900, 40, 4,
              20, 5, 100_000.0, 30_000.0),
    ClubFacts(2, "C-CH002", "重庆车友会", "chengdu", "CH002", 0, 0, 1, 100, 10, 1,
              10, 0, None, None),
    ClubFacts(3, "C-BE001", "北京车友会", "beijing", "BE001", 1, 6, 0, 0, 0, 2),
]  # fmt: skip


def test_club_figures_match_the_hand_computed_world():
    kpis = {k.key: k for k in club_kpis(FACTS)}
    ch1, ch2, be1 = kpis["C-CH001"], kpis["C-CH002"], kpis["C-BE001"]
    assert (ch1.activities, ch1.participants, ch1.participants_per_activity) == (2, 20, 10.0)
    assert (ch1.posts, ch1.reads) == (3, 900)
    assert (ch1.members_at_end, ch1.member_growth) == (44, 0.1)
    assert (ch1.referral_share, ch1.after_sales_share) == (0.25, 0.3)
    assert ch2.participants_per_activity is None
    assert (ch2.referral_share, ch2.after_sales_share) == (0.0, None)
    assert be1.member_growth is None  # no members at the start: growth is undefined, not ∞
    assert (be1.referral_share, be1.after_sales_share) == (None, None)
    assert [k.key for k in club_kpis(FACTS)] == ["C-BE001", "C-CH001", "C-CH002"]


def test_region_shares_are_pooled_not_averaged():
    regions = {k.key: k for k in region_kpis(FACTS, {"chengdu": "成都卫", "beijing": "北京卫"})}
    chengdu = regions["chengdu"]
    assert (chengdu.name, chengdu.clubs) == ("成都卫", 2)
    assert (chengdu.activities, chengdu.participants, chengdu.posts, chengdu.reads) == (
        2,
        20,
        4,
        1000,
    )
    assert (chengdu.members_at_start, chengdu.new_members) == (50, 5)
    assert chengdu.member_growth == 0.1
    # (5 + 0) / (20 + 10) pooled; the average of the clubs' shares would be 12.5%.
    assert chengdu.referral_share == pytest.approx(1 / 6)
    # Only CH001 reports after-sales figures: 30,000 / 100,000.
    assert chengdu.after_sales_share == 0.3
    assert regions["beijing"].referral_share is None
    assert percent(chengdu.referral_share) == "16.7%" and percent(None) == "—"


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2026, 1, 4), True),  # a Sunday make-up working day after New Year (调休)
        (date(2026, 1, 2), False),  # New Year holiday
        (date(2026, 10, 7), False),  # National Day week
        (date(2026, 10, 8), True),  # past day 7: why the schedule fires on days 1-10
        (date(2026, 6, 1), True),
        (date(2026, 6, 2), False),
        (date(2026, 8, 1), False),  # Saturday
        (date(2026, 8, 3), True),
    ],
)
def test_the_report_runs_on_the_months_first_working_day_only(today, first):
    assert is_first_working_day_of_month(today) is first


def test_the_report_is_about_the_previous_month():
    assert report_month(date(2026, 1, 4)) == date(2025, 12, 1)
    assert report_month(date(2026, 10, 8)) == date(2026, 9, 1)
    assert first_working_day(2026, 5) == date(2026, 5, 6)  # Labour Day holiday 1–5 May


def test_the_feedback_about_a_month_is_due_on_the_policy_day_of_the_next():
    assert feedback_due(date(2026, 10, 1), 10) == date(2026, 11, 10)
    assert feedback_due(date(2026, 12, 1), 10) == date(2027, 1, 10)
    assert feedback_due(date(2027, 1, 31), 28) == date(2027, 2, 28)
