"""Assignment balance, dealer round robin, deadlines (the call plan: test_hours_plan.py)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.leads_plan import (
    AgentSlot,
    ServiceHours,
    assign_leads,
    call_plan,
    handoff_deadline,
    next_dealer,
)

SH = ZoneInfo("Asia/Shanghai")


def test_assignment_balances_open_load_within_capacity_deterministically():
    agents = [
        AgentSlot("agent1", 1, open_load=10, remaining_today=100),
        AgentSlot("agent2", 2, open_load=0, remaining_today=3),
        AgentSlot("agent3", 3, open_load=4, remaining_today=100),
        AgentSlot("agent4", 4, open_load=0, remaining_today=0),  # full today
    ]
    plan = assign_leads(list(range(1, 21)), agents)
    counts = {a: list(plan.values()).count(a) for a in (1, 2, 3, 4)}
    assert counts == {1: 6, 2: 3, 3: 11, 4: 0}  # final loads 16, 3, 15
    assert plan == assign_leads(list(range(1, 21)), list(reversed(agents)))
    # the first leads go to the least loaded: agent2 (0), then agent2/agent3 alternate
    assert [plan[i] for i in (1, 2, 3)] == [2, 2, 2]


def test_leads_beyond_everyones_capacity_stay_unassigned():
    plan = assign_leads(list(range(10)), [AgentSlot("a", 1, 0, 3), AgentSlot("b", 2, 0, 2)])
    assert len(plan) == 5 and sorted(plan) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("last", "exclude", "expected"),
    [
        (None, (), "CD001"),
        ("CD001", (), "CD002"),
        ("CD003", (), "CD001"),
        ("CD001", ("CD002",), "CD003"),
        ("CD002", ("CD001", "CD003"), "CD002"),
        ("CD002", ("CD001", "CD002", "CD003"), None),
    ],
)
def test_dealers_take_turns_in_their_city(last, exclude, expected):
    assert next_dealer(["CD003", "CD001", "CD002"], last=last, exclude=exclude) == expected


@pytest.mark.parametrize(
    ("handed", "due"),
    [
        ("2026-09-28 15:00", "2026-09-29 15:00"),
        ("2026-09-30 15:00", "2026-10-08 15:00"),  # across National Day
        ("2026-10-03 11:00", "2026-10-09 00:00"),  # on a holiday: the whole of Oct 8
        ("2026-10-09 16:00", "2026-10-10 16:00"),  # Sat Oct 10 is a make-up working day
    ],
)
def test_dealers_have_one_working_day_to_accept(handed, due):
    moment = datetime.fromisoformat(handed).replace(tzinfo=SH)
    assert handoff_deadline(moment, working_days=1) == datetime.fromisoformat(due).replace(
        tzinfo=SH
    )


def test_date_type():
    plan = call_plan(datetime(2026, 9, 28, 9, tzinfo=SH), hours=ServiceHours())
    assert isinstance(plan.call_day, date)
