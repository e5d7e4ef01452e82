"""The weekly revisit of unconverted leads and the result each revisit call reports back.

A lead unconverted for over two months is revisited once a week until a result takes it off
the list: ordered with us converts it; a competitor's car or no longer buying closes it;
still considering keeps it on next week's list, and so does unreachable, until it has been
unreachable so many weeks in a row (a setting) and closes. The list of results is ours (the
brand fixed only that each revisit's result is reported).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.permissions import Actor


class RevisitOutcome(StrEnum):
    considering = "considering"
    ordered = "ordered"
    bought_competitor = "bought_competitor"
    not_buying = "not_buying"
    unreachable = "unreachable"


LABELS: dict[RevisitOutcome, str] = {
    RevisitOutcome.considering: "仍在考虑",
    RevisitOutcome.ordered: "已在本品牌下订",
    RevisitOutcome.bought_competitor: "已购竞品",
    RevisitOutcome.not_buying: "不再购车",
    RevisitOutcome.unreachable: "联系不上",
}
# What each result does to the lead.
CONVERTS = frozenset({RevisitOutcome.ordered})
CLOSES = frozenset({RevisitOutcome.ordered, RevisitOutcome.bought_competitor,
                    RevisitOutcome.not_buying})  # fmt: skip

_BY_TEXT = {**{o.value: o for o in RevisitOutcome}, **{label: o for o, label in LABELS.items()}}


class RevisitRejected(ValueError):
    """A result that cannot be recorded; the message says why."""


def parse_revisit_outcome(text: str) -> RevisitOutcome:
    """The result of a Chinese label (仍在考虑) or an English code (considering)."""
    key = (text or "").strip()
    found = _BY_TEXT.get(key) or _BY_TEXT.get(key.lower().replace(" ", "_").replace("-", "_"))
    if found is None:
        choices = ", ".join(f"{label}/{code.value}" for code, label in LABELS.items())
        raise RevisitRejected(f"unknown revisit result {text!r} (未知回访结果); use {choices}")
    return found


def week_of(day: date) -> date:
    """The Monday of `day`'s week: what a week's revisit list is named by."""
    return day - timedelta(days=day.weekday())


def unreachable_streak(results: Iterable[tuple[date, str | None]], *, before: date) -> int:
    """How many weeks in a row, right before the week `before`, ended unreachable.

    `results` are (week_of, result) of the lead's revisits; a week without a revisit or
    with any other result (none recorded included) ends the streak."""
    by_week = dict(results)
    streak, week = 0, before - timedelta(days=7)
    while by_week.get(week) == RevisitOutcome.unreachable:
        streak += 1
        week -= timedelta(days=7)
    return streak


@dataclass(frozen=True)
class RevisitEffect:
    converts: bool  # the lead is converted (ordered with us)
    closes: bool  # the lead leaves the revisit list for good


def revisit_effect(
    outcome: RevisitOutcome, *, unreachable_before: int, unreachable_weeks: int
) -> RevisitEffect:
    """What recording `outcome` does, given the unreachable weeks in a row before it."""
    if outcome == RevisitOutcome.unreachable:
        return RevisitEffect(False, unreachable_before + 1 >= unreachable_weeks)
    return RevisitEffect(outcome in CONVERTS, outcome in CLOSES)


def revisit_refusal(
    actor: Actor | None, *, username: str, agent_username: str | None
) -> str | None:
    """A revisit's result is its agent's to record, or the call supervisor's."""
    if actor is None:
        return f"unknown user {username!r}"
    if not actor.active:
        return f"user {actor.username!r} is not active"
    if actor.role == "call_supervisor":
        return None
    if actor.role == "call_agent" and agent_username == actor.username:
        return None
    owner = f"its agent {agent_username!r} or " if agent_username else ""
    return (
        f"user {actor.username!r} ({actor.role}) may not record this revisit's result: "
        f"that is for {owner}the call supervisor"
    )
