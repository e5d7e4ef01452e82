"""Calls follow the service team's hours (every day 09:00–23:00, holidays included, around
the clock on a peak date); office deadlines keep the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.campaigns import Stage, stage_due
from domain.gates import escalation_date
from domain.leads_plan import ServiceHours, call_plan, service_day, service_day_bounds

SH = ZoneInfo("Asia/Shanghai")
LAUNCH = date(2026, 12, 5)  # a Saturday: a campaign's launch day, a peak date
HOURS = ServiceHours(opens=time(9), closes=time(23), peak_dates=frozenset({LAUNCH}))


@pytest.mark.parametrize(
    ("arrived", "calls_1_2", "calls_from", "call_3"),
    [
        # A Saturday: within hours the same day, after the close the next morning.
        ("2026-11-28 22:50", "2026-11-28", "2026-11-28 22:50", "2026-11-29"),
        ("2026-11-28 23:10", "2026-11-29", "2026-11-29 09:00", "2026-11-30"),
        ("2026-11-28 23:00", "2026-11-29", "2026-11-29 09:00", "2026-11-30"),
        # National Day 2026 (1–7 October off): the service works; call 3 on 2 October.
        ("2026-10-01 10:00", "2026-10-01", "2026-10-01 10:00", "2026-10-02"),
        ("2026-09-30 23:30", "2026-10-01", "2026-10-01 09:00", "2026-10-02"),
        # 除夕 2026 (16 February, inside the Spring Festival holiday) and 除夕 2027 (5 February;
        # the calendar has no 2027 data yet, which changes nothing here).
        ("2026-02-16 21:00", "2026-02-16", "2026-02-16 21:00", "2026-02-17"),
        ("2026-02-16 23:30", "2026-02-17", "2026-02-17 09:00", "2026-02-18"),
        ("2027-02-05 21:00", "2027-02-05", "2027-02-05 21:00", "2027-02-06"),
        ("2027-02-05 23:30", "2027-02-06", "2027-02-06 09:00", "2027-02-07"),
        # A peak date is served around the clock; a normal day's night waits for 09:00.
        ("2026-12-05 02:00", "2026-12-05", "2026-12-05 02:00", "2026-12-06"),
        ("2026-12-05 23:30", "2026-12-05", "2026-12-05 23:30", "2026-12-06"),
        ("2026-12-04 23:30", "2026-12-05", "2026-12-05 00:00", "2026-12-06"),
        ("2026-12-07 02:00", "2026-12-07", "2026-12-07 09:00", "2026-12-08"),
        # Stored in UTC: 2026-11-28T15:30Z is 23:30 in Shanghai.
        ("2026-11-28T15:30:00+00:00", "2026-11-29", "2026-11-29 09:00", "2026-11-30"),
    ],
)
def test_calls_follow_the_service_hours(arrived, calls_1_2, calls_from, call_3):
    moment = datetime.fromisoformat(arrived)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=SH)
    plan = call_plan(moment, hours=HOURS)
    assert (plan.call_day.isoformat(), plan.third_call_due.isoformat()) == (calls_1_2, call_3)
    assert plan.calls_from == datetime.fromisoformat(calls_from).replace(tzinfo=SH)
    assert plan.due(1) == plan.due(2) == plan.call_day and plan.due(3) == plan.third_call_due


@pytest.mark.parametrize(
    ("moment", "open_", "day"),
    [
        ("2026-11-28 08:59", False, "2026-11-28"),
        ("2026-11-28 09:00", True, "2026-11-28"),
        ("2026-11-28 22:59", True, "2026-11-28"),
        ("2026-11-28 23:00", False, "2026-11-29"),
        ("2026-12-05 03:00", True, "2026-12-05"),
        ("2026-12-04 23:59", False, "2026-12-05"),
    ],
)
def test_the_service_is_open_and_each_moment_belongs_to_one_service_day(moment, open_, day):
    at = datetime.fromisoformat(moment).replace(tzinfo=SH)
    assert HOURS.is_open(at) is open_
    assert service_day(at, HOURS).isoformat() == day
    start, end = service_day_bounds(date.fromisoformat(day), HOURS)
    assert start <= at < end


def test_a_peak_date_runs_from_the_previous_close_to_midnight():
    start, end = service_day_bounds(LAUNCH, HOURS)
    assert start == datetime(2026, 12, 4, 23, tzinfo=SH)
    assert end == datetime(2026, 12, 6, tzinfo=SH)
    assert service_day_bounds(date(2026, 12, 6), HOURS)[0] == end


def test_office_deadlines_keep_the_working_day_calendar():
    # A plan revision opened on 30 September is due 2 working days later: past National Day.
    due = stage_due(
        Stage.plan_revision,
        today=date(2026, 9, 30),
        milestone_due=lambda _: date(2027, 1, 1),
        quick_working_days=2,
        feasibility_working_days=2,
    )
    assert due == date(2026, 10, 9)
    # Escalation one working day after 9 October lands on Saturday 10 October, a make-up day.
    assert escalation_date(date(2026, 10, 9), escalate_after_working_days=1) == date(2026, 10, 10)
