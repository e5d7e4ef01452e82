"""The quarter cadence's rules: materials three weeks and preparation two weeks before an
activity (a deadline on a holiday moves to the working day before), the competitor report
on the month's last working day, the confirmation's checks, the winter gathering."""

from __future__ import annotations

from datetime import date

from domain import calendar
from domain.planning import ClubRef, plan_quarter
from domain.quarter import (
    QuarterChanges,
    competitor_report_due_on,
    confirmation_problem,
    describe_changes,
    material_reviewer_refusal,
    materials_due_on,
    preparation_starts_on,
)
from domain.rotation import Hosting, Quarter


def test_materials_and_preparation_dates_step_back_over_holidays():
    # 16 Oct 2026: three weeks before is 25 Sep (Mid-Autumn, a holiday): due Thursday 24 Sep.
    assert materials_due_on(
        date(2026, 10, 16), weeks_before=3, is_working_day=calendar.is_working_day
    ) == date(2026, 9, 24)
    # Two weeks before is 2 Oct (National Day week): preparation starts Wednesday 30 Sep.
    assert preparation_starts_on(
        date(2026, 10, 16), weeks_before=2, is_working_day=calendar.is_working_day
    ) == date(2026, 9, 30)
    # 31 Oct 2026 + three weeks: 10 Oct is a make-up Saturday, a working day: due that day.
    assert materials_due_on(
        date(2026, 10, 31), weeks_before=3, is_working_day=calendar.is_working_day
    ) == date(2026, 10, 10)


def test_the_competitor_report_is_due_on_the_last_working_day_of_the_month():
    # October 2026 ends on a Saturday: due Friday 30 October.
    assert competitor_report_due_on(
        date(2026, 10, 1), is_working_day=calendar.is_working_day
    ) == date(2026, 10, 30)
    # September 2026 ends on a Wednesday, a working day: that day.
    assert competitor_report_due_on(
        date(2026, 9, 1), is_working_day=calendar.is_working_day
    ) == date(2026, 9, 30)


def test_a_confirmation_that_changes_the_host_or_dates_needs_a_reason_and_stays_in_quarter():
    q = Quarter.parse("2027Q2")
    draft = {
        "quarter": q,
        "host": "beijing",
        "starts_on": date(2027, 6, 12),
        "ends_on": date(2027, 6, 13),
    }
    assert confirmation_problem(QuarterChanges(), **draft) is None
    assert confirmation_problem(QuarterChanges(host_region="beijing"), **draft) is None
    assert (
        confirmation_problem(QuarterChanges(host_region="chengdu"), **draft)
        == "a changed host or changed dates need a reason (comment)"
    )
    assert (
        confirmation_problem(QuarterChanges(host_region="chengdu", reason="车展"), **draft) is None
    )
    assert "is not a region" in confirmation_problem(
        QuarterChanges(host_region="tokyo", reason="x"), **draft
    )
    moved = QuarterChanges(crossing_starts_on=date(2027, 7, 3), crossing_ends_on=date(2027, 7, 4))
    assert confirmation_problem(moved.model_copy(update={"reason": "雨季"}), **draft) == (
        "the crossing 2027-07-03–2027-07-04 is not within 2027Q2"
    )
    both = QuarterChanges(host_region="chengdu", crossing_starts_on=date(2027, 5, 15),
                          crossing_ends_on=date(2027, 5, 16), reason="车展")  # fmt: skip
    assert describe_changes(
        both, host="beijing", starts_on=date(2027, 6, 12), ends_on=date(2027, 6, 13)
    ) == ["host beijing → chengdu", "dates 2027-06-12–2027-06-13 → 2027-05-15–2027-05-16"]


def test_hq_confirms_any_materials_and_the_specialist_those_of_their_region_b_and_c():
    args = {"active": True, "activity_region": "chengdu"}
    assert (
        material_reviewer_refusal(role="campaign_manager", region_code=None, klass="A", **args)
        is None
    )
    assert (
        material_reviewer_refusal(
            role="regional_specialist", region_code="chengdu", klass="C", **args
        )
        is None
    )
    assert "campaign manager" in material_reviewer_refusal(
        role="regional_specialist", region_code="chengdu", klass="A", **args
    )
    assert material_reviewer_refusal(
        role="regional_specialist", region_code="beijing", klass="B", **args
    ).endswith("or the regional specialist of chengdu")
    assert material_reviewer_refusal(role="club_admin", region_code="chengdu", klass="C", **args)


def test_the_national_gathering_is_a_january_snow_event_in_the_first_quarter_plan():
    clubs = [ClubRef(1, "C-SY001", "沈阳车友会", "shenyang")]
    plans = {
        q: plan_quarter(
            Quarter.parse(q),
            Hosting(Quarter.parse(q), "shenyang" if q.endswith("Q1") else "beijing", m),
            clubs,
            gathering_month=1,
            gathering_host="shenyang",
            gathering_terrain="snow",
            gathering_features="冰钓、雪地游戏、雪地火锅",
            due_working_days=5,
            is_working_day=calendar.is_working_day,
            add_working_days=calendar.add_working_days,
        )
        for q, m in (("2026Q1", 2), ("2026Q3", 8))
    }
    g = plans["2026Q1"].gathering
    assert g.title == "2026 羽林车友俱乐部 年度集结令 · 冰雪集结"
    assert (g.starts_on.month, g.host, g.terrain, g.features) == (
        1,
        "shenyang",
        "snow",
        "冰钓、雪地游戏、雪地火锅",
    )
    assert plans["2026Q3"].gathering is None  # no longer September


def test_the_settings_default_the_gathering_to_a_winter_snow_event():
    from clubflow.core.settings import Settings

    s = Settings()
    assert (
        s.national_gathering_month,
        s.national_gathering_host,
        s.national_gathering_terrain,
    ) == (
        1,
        "shenyang",
        "snow",
    )
