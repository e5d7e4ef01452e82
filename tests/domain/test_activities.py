from __future__ import annotations

from datetime import date

import pytest

from domain.activities import (
    ActivityProposal,
    Booked,
    ClubRef,
    activity_code,
    check_proposal,
    plan_warmup,
    points_for,
    points_on,
    recap_due_on,
    review_chain,
)
from domain.models import ActivityClass, Role

REGIONS = {"chengdu", "beijing", "lanzhou"}
CLUB = ClubRef("C-CH001", "chengdu")
TODAY = date(2026, 9, 21)  # a Monday


def _proposal(**overrides) -> ActivityProposal:
    values = {
        "title": "雨林穿越 秋季站",
        "activity_class": "C",
        "region": "chengdu",
        "club": "C-CH001",
        "starts_on": date(2026, 10, 11),
        "ends_on": date(2026, 10, 11),
        "proposed_by": "admin.ch001",
    }
    return ActivityProposal(**{**values, **overrides})


def _check(proposal, *, club=CLUB, booked=(), today=TODAY):
    return [
        (p.field, p.reason)
        for p in check_proposal(
            proposal,
            club=club,
            known_regions=REGIONS,
            booked=booked,
            today=today,
            warmup_opens_before_days=7,
            warmup_closes_before_days=3,
        )
    ]


def test_a_sound_proposal_has_no_problems():
    assert _check(_proposal()) == []


@pytest.mark.parametrize(
    ("overrides", "club", "booked", "today", "field", "reason"),
    [
        ({"club": "C-XX999"}, None, (), TODAY, "club", "unknown club 'C-XX999'"),
        ({"activity_class": "A"}, CLUB, (), TODAY, "activity_class", "created by HQ"),
        ({"club": None}, None, (), TODAY, "club", "needs its club"),
        ({"region": "atlantis"}, CLUB, (), TODAY, "region", "unknown region 'atlantis'"),
        ({"region": "beijing"}, CLUB, (), TODAY, "region", "belongs to chengdu"),
        ({"starts_on": date(2026, 9, 20)}, CLUB, (), TODAY, "starts_on", "in the past"),
        ({"ends_on": date(2026, 10, 10)}, CLUB, (), TODAY, "ends_on", "before start"),
        (
            {"ends_on": date(2026, 10, 12)},
            CLUB,
            (Booked("C-CH001-20261012", date(2026, 10, 12), date(2026, 10, 12)),),
            TODAY,
            "starts_on",
            "already has C-CH001-20261012",
        ),
        ({"invited_regions": ["mars"]}, CLUB, (), TODAY, "invited_regions", "['mars']"),
        # start-3 is 10-08: proposing on 10-09 is too late for the warm-up window.
        ({}, CLUB, (), date(2026, 10, 9), "starts_on", "too late for the warm-up window"),
    ],
)
def test_a_refused_proposal_names_the_field_and_the_reason(
    overrides, club, booked, today, field, reason
):
    problems = _check(_proposal(**overrides), club=club, booked=booked, today=today)
    assert any(f == field and reason in r for f, r in problems), problems


def test_a_late_proposal_passes_when_it_asks_for_the_late_flag():
    assert _check(_proposal(late=True), today=date(2026, 10, 9)) == []
    # On start-3 itself the window is still open.
    assert _check(_proposal(), today=date(2026, 10, 8)) == []


def test_an_activity_of_another_club_or_adjacent_days_does_not_overlap():
    booked = (Booked("C-CH001-20261012", date(2026, 10, 12), date(2026, 10, 13)),)
    assert _check(_proposal(), booked=booked) == []


def test_the_code_is_the_club_and_the_start():
    assert activity_code("C-CH001", date(2026, 10, 11)) == "C-CH001-20261011"


@pytest.mark.parametrize(
    ("klass", "steps"),
    [
        ("A", []),
        ("B", [("specialist_review", Role.regional_specialist, "chengdu"),
               ("manager_review", Role.campaign_manager, None)]),
        ("C", [("specialist_review", Role.regional_specialist, "chengdu")]),
        ("D", []),
        ("E", []),
    ],
)  # fmt: skip
def test_the_reviewer_chain_follows_the_class(klass, steps):
    chain = review_chain(ActivityClass(klass), "chengdu")
    assert [(s.key, s.role, s.region) for s in chain] == steps


# Start Sunday 2026-10-11: window 10-04 … 10-08; 10-04 … 10-07 are National Day holidays.
START = date(2026, 10, 11)


@pytest.mark.parametrize(
    ("approved_on", "action", "send_on"),
    [
        (date(2026, 9, 21), "scheduled", date(2026, 10, 8)),  # first working day in the window
        (date(2026, 10, 3), "scheduled", date(2026, 10, 8)),  # the day before start-7
        (date(2026, 10, 4), "send_now", date(2026, 10, 4)),  # start-7: window opens
        (date(2026, 10, 8), "send_now", date(2026, 10, 8)),  # start-3: last day inside
        (date(2026, 10, 9), "late", date(2026, 10, 9)),  # after start-3: warn, send at once
        (date(2026, 10, 11), "late", date(2026, 10, 11)),  # the start day itself: still late
        (date(2026, 10, 12), "cancel", None),  # after the start: cancelled
    ],
)
def test_every_edge_of_the_warmup_window(approved_on, action, send_on):
    plan = plan_warmup(starts_on=START, approved_on=approved_on, opens_before=7, closes_before=3)
    assert (plan.action, plan.send_on) == (action, send_on)
    assert (plan.window.opens, plan.window.closes) == (date(2026, 10, 4), date(2026, 10, 8))


def test_a_window_opening_on_a_working_day_sends_on_its_opening_day():
    # Start Thursday 2026-10-22: window opens Thursday 10-15, a working day.
    plan = plan_warmup(
        starts_on=date(2026, 10, 22), approved_on=TODAY, opens_before=7, closes_before=3
    )
    assert plan.send_on == date(2026, 10, 15)


def test_a_window_that_is_all_holiday_sends_on_its_opening_day():
    # Start 2026-10-10 (make-up Saturday): window 10-03 … 10-07, all National Day.
    plan = plan_warmup(
        starts_on=date(2026, 10, 10), approved_on=TODAY, opens_before=7, closes_before=3
    )
    assert plan.send_on == date(2026, 10, 3)


def test_recap_is_due_a_week_after_the_end_and_points_ten_working_days_after():
    assert recap_due_on(START, recap_due_days=7) == date(2026, 10, 18)
    # 10-12 … 10-16 and 10-19 … 10-23: ten working days.
    assert points_on(START, points_after_working_days=10) == date(2026, 10, 23)
    # Across National Day: from 2026-09-30, 10-01 … 10-07 do not count (10-10 is a make-up day).
    assert points_on(date(2026, 9, 30), points_after_working_days=5) == date(2026, 10, 13)


def test_organisers_get_more_points():
    table = {"A": 300, "B": 200, "C": 100, "D": 50, "E": 20}
    assert (
        points_for(ActivityClass.C, organiser=False, points_by_class=table, organiser_bonus=100)
        == 100
    )
    assert (
        points_for(ActivityClass.C, organiser=True, points_by_class=table, organiser_bonus=100)
        == 200
    )


def test_an_activity_moves_only_along_its_table_of_moves():
    from domain.activities import ActivityStatus, StatusMoveRefused, move_activity

    assert move_activity("proposed", ActivityStatus.in_review) == ActivityStatus.in_review
    assert move_activity("sent_back", ActivityStatus.proposed) == ActivityStatus.proposed
    assert move_activity("approved", ActivityStatus.announced) == ActivityStatus.announced
    for current, to in [
        ("rejected", ActivityStatus.approved),
        ("archived", ActivityStatus.announced),
        ("announced", ActivityStatus.in_review),
        ("cancelled", ActivityStatus.approved),
    ]:
        with pytest.raises(StatusMoveRefused, match=f"{current} cannot become {to}"):
            move_activity(current, to)
