from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingCalendar, YearSchedule
from domain.planning import (
    SLOT_MOVES,
    SUBMISSION_MOVES,
    CrossingResult,
    SlotStatus,
    StatusMoveError,
    SubmissionStatus,
    crossing_proposal,
    event_weekend,
    free_weekends,
    move,
    moves_into,
    plan_crossing,
    score_crossings,
)
from domain.rotation import Hosting, Quarter

WEIGHTS = {"participants": 0.5, "feedback": 0.3, "media": 0.2}


def test_a_make_up_working_saturday_is_no_weekend_for_an_event():
    # National Day week 1–7 October 2026 with Saturday 10 October as make-up working day (调休).
    cal = WorkingCalendar(
        {
            2026: YearSchedule(
                2026,
                holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
                workdays=frozenset({date(2026, 10, 10)}),
            )
        }
    )
    weekends = free_weekends(2026, 10, cal.is_working_day)
    assert [sat for sat, _ in weekends] == [
        date(2026, 10, 3),
        date(2026, 10, 17),
        date(2026, 10, 24),
    ]  # not 10 October (a working Saturday), not 31 October (its Sunday is in November)
    assert event_weekend(2026, 10, cal.is_working_day, 2) == (
        date(2026, 10, 17),
        date(2026, 10, 18),
    )


def test_a_weekend_split_by_the_month_end_belongs_to_neither_month():
    plain = WorkingCalendar({})
    # July 2027 ends on a Saturday: 31 July + 1 August are not a free weekend of July.
    assert free_weekends(2027, 7, plain.is_working_day)[-1] == (
        date(2027, 7, 24),
        date(2027, 7, 25),
    )


def test_the_crossing_becomes_a_class_b_proposal_inviting_the_other_six_regions():
    plain = WorkingCalendar({})
    crossing = plan_crossing(
        Hosting(Quarter(2027, 3), "nanjing", 8), plain.is_working_day, organiser_club="C-NA001"
    )
    payload = crossing_proposal(crossing, proposed_by="specialist.nanjing")
    # The activity lifecycle's natural key: club + start date.
    assert crossing.activity_code == "C-NA001-20270814"
    assert payload["activity_class"] == "B"
    assert payload["title"] == "南京卫 急流勇进 2027Q3"
    assert (payload["starts_on"], payload["ends_on"]) == (date(2027, 8, 14), date(2027, 8, 15))
    assert sorted(payload["invited_regions"]) == sorted(
        ["beijing", "lanzhou", "chengdu", "guangzhou", "jinan", "shenyang"]
    )
    activities = pytest.importorskip("domain.activities")
    proposal = activities.ActivityProposal.model_validate(payload)
    assert proposal.club == "C-NA001"


def test_crossings_are_ranked_by_weighted_normalised_figures():
    results = [
        CrossingResult("2027Q1", "jinan", "X-2027Q1", 40, 4.0, 10_000),
        CrossingResult("2027Q2", "lanzhou", "X-2027Q2", 80, 3.0, 5_000),
        CrossingResult("2027Q3", "nanjing", "X-2027Q3", 60, 5.0, 20_000),
        CrossingResult("2027Q4", "guangzhou", None, 0, None, 0),  # no activity record
    ]
    ranked = score_crossings(results, WEIGHTS)
    # By hand: Q1 = .5*40/80 + .3*4/5 + .2*10k/20k = .25+.24+.10 = .59
    #          Q2 = .5*1     + .3*3/5 + .2*5k/20k  = .50+.18+.05 = .73
    #          Q3 = .5*60/80 + .3*1   + .2*1       = .375+.30+.20 = .875
    assert [(r.result.quarter, r.score, r.rank) for r in ranked] == [
        ("2027Q3", 0.875, 1),
        ("2027Q2", 0.73, 2),
        ("2027Q1", 0.59, 3),
        ("2027Q4", 0.0, 4),
    ]


def test_equal_scores_rank_more_participants_first_then_the_earlier_quarter():
    results = [
        CrossingResult("2027Q2", "a", None, 10, None, 0),
        CrossingResult("2027Q1", "b", None, 10, None, 0),
    ]
    ranked = score_crossings(results, {"participants": 1, "feedback": 0, "media": 0})
    assert [r.result.quarter for r in ranked] == ["2027Q1", "2027Q2"]


def test_weights_must_name_the_three_factors():
    with pytest.raises(ValueError, match=r"unknown \['reach'\], missing \['media'\]"):
        score_crossings([], {"participants": 1, "feedback": 1, "reach": 1})


def test_the_ics_file_survives_a_standard_parser_with_awkward_text():
    from icalendar import Calendar

    from domain.ics import quarter_calendar
    from domain.planning import ClubRef, plan_quarter

    plain = WorkingCalendar({})
    q = Quarter(2027, 3)
    awkward = "车友会; 自驾, 越野\\测试\n第二行" + "很长的名字" * 20
    plan = plan_quarter(
        q,
        Hosting(q, "nanjing", 8),
        [ClubRef(1, "C-NA001", awkward, "nanjing")],
        gathering_month=9,
        due_working_days=5,
        is_working_day=plain.is_working_day,
        add_working_days=plain.add_working_days,
    )
    stamp = datetime(2027, 6, 1, 1, 2, 3, tzinfo=UTC)
    data = quarter_calendar(plan, stamp=stamp, region_names={"nanjing": "南京卫"})
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert len(events) == 1 + 1 + 3  # crossing, gathering (September), three slots
    slot = next(e for e in events if str(e["uid"]) == "slot-C-NA001-2027-07@clubflow")
    assert str(slot["summary"]) == f"{awkward} 7月活动档期（涉水季·避暑游）"
    assert slot.decoded("dtstamp") == stamp
    assert (slot.decoded("dtstart"), slot.decoded("dtend")) == (date(2027, 7, 1), date(2027, 8, 1))
    assert str(slot["transp"]) == "TRANSPARENT"
    gathering = next(e for e in events if str(e["uid"]).startswith("gathering-"))
    assert gathering.decoded("dtstart") == date(2027, 9, 25)


def test_a_slot_takes_one_plan_and_a_submission_is_proposed_once():
    assert move(SLOT_MOVES, "open", SlotStatus.submitted) is SlotStatus.submitted
    with pytest.raises(StatusMoveError, match="SlotStatus submitted cannot become submitted"):
        move(SLOT_MOVES, "submitted", SlotStatus.submitted)
    assert move(SUBMISSION_MOVES, "submitted", SubmissionStatus.proposed) == "proposed"
    with pytest.raises(StatusMoveError, match="cannot become submitted"):
        move(SUBMISSION_MOVES, "proposed", SubmissionStatus.submitted)
    assert moves_into(SUBMISSION_MOVES, SubmissionStatus.proposed) == [SubmissionStatus.submitted]
    assert moves_into(SLOT_MOVES, SlotStatus.open) == []
