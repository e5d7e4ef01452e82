"""The revisit results as rules: what each does to the lead, the unreachable streak, who may
record one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.leads_revisit import (
    RevisitEffect,
    RevisitOutcome,
    RevisitRejected,
    parse_revisit_outcome,
    revisit_effect,
    revisit_refusal,
    unreachable_streak,
    week_of,
)
from domain.permissions import Actor

MONDAY = date(2026, 12, 21)


def test_results_are_read_from_the_chinese_label_or_the_code():
    assert parse_revisit_outcome("已在本品牌下订") == RevisitOutcome.ordered
    assert parse_revisit_outcome(" Bought-Competitor ") == RevisitOutcome.bought_competitor
    assert parse_revisit_outcome("联系不上") == RevisitOutcome.unreachable
    with pytest.raises(
        RevisitRejected, match=r"unknown revisit result '已下订'.*仍在考虑/considering"
    ):
        parse_revisit_outcome("已下订")


@pytest.mark.parametrize(
    ("outcome", "effect"),
    [
        (RevisitOutcome.considering, RevisitEffect(converts=False, closes=False)),
        (RevisitOutcome.ordered, RevisitEffect(converts=True, closes=True)),
        (RevisitOutcome.bought_competitor, RevisitEffect(converts=False, closes=True)),
        (RevisitOutcome.not_buying, RevisitEffect(converts=False, closes=True)),
        (RevisitOutcome.unreachable, RevisitEffect(converts=False, closes=False)),
    ],
)
def test_what_each_result_does_to_the_lead(outcome, effect):
    assert revisit_effect(outcome, unreachable_before=0, unreachable_weeks=3) == effect


def test_the_third_unreachable_week_in_a_row_closes_the_lead():
    third = revisit_effect(RevisitOutcome.unreachable, unreachable_before=2, unreachable_weeks=3)
    second = revisit_effect(RevisitOutcome.unreachable, unreachable_before=1, unreachable_weeks=3)
    assert third.closes and not second.closes
    once = revisit_effect(RevisitOutcome.unreachable, unreachable_before=0, unreachable_weeks=1)
    assert once.closes


def test_the_streak_counts_only_consecutive_unreachable_weeks_right_before():
    def weeks(*results):
        return [(MONDAY - timedelta(weeks=i + 1), r) for i, r in enumerate(results)]

    assert unreachable_streak(weeks("unreachable", "unreachable"), before=MONDAY) == 2
    # A week still considering (or with no result) breaks the run.
    assert (
        unreachable_streak(weeks("unreachable", "considering", "unreachable"), before=MONDAY) == 1
    )
    assert unreachable_streak(weeks(None, "unreachable"), before=MONDAY) == 0
    # A missing week breaks it too; the week itself does not count.
    gap = [(date(2026, 12, 7), "unreachable"), (MONDAY, "unreachable")]
    assert unreachable_streak(gap, before=MONDAY) == 0


def test_a_week_is_named_by_its_monday():
    assert week_of(date(2026, 12, 27)) == MONDAY  # a Sunday
    assert week_of(MONDAY) == MONDAY


def test_only_the_revisits_agent_or_the_supervisor_may_record():
    agent = Actor("agent1", "call_agent")
    assert revisit_refusal(agent, username="agent1", agent_username="agent1") is None
    supervisor = Actor("call.supervisor", "call_supervisor")
    assert revisit_refusal(supervisor, username="call.supervisor", agent_username=None) is None
    other = revisit_refusal(Actor("agent2", "call_agent"), username="agent2",
                            agent_username="agent1")  # fmt: skip
    assert other == (
        "user 'agent2' (call_agent) may not record this revisit's result: "
        "that is for its agent 'agent1' or the call supervisor"
    )
    dealer = revisit_refusal(Actor("dealer:CH001", "dealer"), username="dealer:CH001",
                             agent_username=None)  # fmt: skip
    assert dealer.endswith("may not record this revisit's result: that is for the call supervisor")
    assert revisit_refusal(None, username="ghost", agent_username=None) == "unknown user 'ghost'"
    gone = Actor("agent1", "call_agent", active=False)
    assert revisit_refusal(gone, username="agent1", agent_username="agent1") == (
        "user 'agent1' is not active"
    )
