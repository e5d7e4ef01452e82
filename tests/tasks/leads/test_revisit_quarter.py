"""A quarter of weekly revisits over the demo world: each Monday's list is built, the agents
and the supervisor report every result but one lead's, and the list shrinks week over week as
leads are converted or closed, until only the lead nobody reported on is left."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from support_revisit import SH, list_week, record, revisits_of, seed_lead

from clubflow.core.db import session_scope
from domain.models import Lead

FIRST_MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
WEEKS = 13  # 2026-12-07 … 2027-03-01
NEVER_ANSWERED = "a12"

# What each week's revisit call found (week index → lead → result); every other lead on the
# list is still considering, except the one whose result nobody reports.
SCRIPT: dict[int, dict[str, str]] = {
    0: {"a1": "已在本品牌下订", "a2": "已购竞品", "a4": "不再购车", "a3": "联系不上"},
    1: {"a3": "联系不上", "a5": "ordered", "n1": "ordered"},
    2: {"a3": "联系不上", "a7": "not_buying"},  # a3's third week in a row: closed
    3: {"a8": "unreachable", "a9": "ordered"},
    4: {"a8": "considering", "s": "ordered"},  # the streak is broken
    5: {"a8": "unreachable", "a10": "bought_competitor"},
    6: {"a8": "unreachable", "n2": "not_buying"},
    7: {"a8": "unreachable"},  # three in a row again: closed
    8: {"a6": "ordered"},
    9: {"a11": "ordered"},
}
# week → (listed, carried over, newly due, closed last week, converted last week)
EXPECTED = [
    (13, 0, 13, 0, 0),
    (12, 10, 2, 3, 1),
    (10, 10, 0, 2, 2),
    (8, 8, 0, 2, 0),
    (7, 7, 0, 1, 1),
    (6, 6, 0, 1, 1),
    (5, 5, 0, 1, 0),
    (4, 4, 0, 1, 0),
    (3, 3, 0, 1, 0),
    (2, 2, 0, 1, 1),
    (1, 1, 0, 1, 1),
    (1, 1, 0, 0, 0),
    (1, 1, 0, 0, 0),
]


def _seed(db_url) -> dict[str, tuple[int, str]]:
    """Lead key → (lead id, who records its results)."""
    leads = {}
    for i in range(1, 13):  # valid and interested since early September: due from week 0
        agent = f"agent{(i - 1) % 3 + 1}"
        since = datetime(2026, 9, i, 16, 0, tzinfo=SH)
        leads[f"a{i}"] = (seed_lead(db_url, i, agent=agent, valid_since=since), agent)
    # Still waiting for an appointment since September, with no agent: the supervisor's.
    open_since = datetime(2026, 9, 20, 11, 0, tzinfo=SH)
    leads["s"] = (seed_lead(db_url, 13, agent=None, arrived_at=open_since), "call.supervisor")
    # Valid on 10 October: over two months from the second Monday (14 December) on.
    for n, key in ((14, "n1"), (15, "n2")):
        since = datetime(2026, 10, 10, 10, 0, tzinfo=SH)
        leads[key] = (seed_lead(db_url, n, agent="agent1", valid_since=since), "agent1")
    # Never on the list this quarter: converted already, or valid too recently.
    seed_lead(db_url, 16, agent="agent2", valid_since=datetime(2026, 9, 3, tzinfo=SH),
              converted_at=datetime(2026, 10, 1, tzinfo=SH))  # fmt: skip
    seed_lead(db_url, 17, agent="agent2", valid_since=datetime(2027, 1, 20, tzinfo=SH))
    return leads


def test_over_a_quarter_the_revisit_list_shrinks_week_over_week(lead_world, db_url):
    leads = _seed(db_url)
    by_id = {lead_id: key for key, (lead_id, _who) in leads.items()}
    seen, lists, converted_on = [], [], {}
    for week in range(WEEKS):
        monday = FIRST_MONDAY + timedelta(weeks=week)
        summary = list_week(db_url, monday)
        on_list = revisits_of(db_url, monday.date())
        lists.append(sorted(by_id[lead_id] for lead_id in on_list))
        seen.append(
            (
                summary.listed,
                summary.carried_over,
                summary.newly_due,
                summary.closed_last_week,
                summary.converted_last_week,
            )
        )
        answered = monday + timedelta(days=1, hours=1)  # Tuesday 10:00
        for lead_id, revisit_id in sorted(on_list.items()):
            key = by_id[lead_id]
            if key == NEVER_ANSWERED:
                continue
            result = SCRIPT.get(week, {}).get(key, "considering")
            recorded = record(db_url, revisit_id, result, leads[key][1], answered)
            if recorded.converted:
                converted_on[key] = answered

    assert seen == EXPECTED
    sizes = [row[0] for row in seen]
    # Smaller every week until only the unreported lead is left, carried over each week.
    assert all(later < earlier for earlier, later in zip(sizes[:11], sizes[1:11], strict=False))
    assert sizes[10:] == [1, 1, 1]
    assert lists[1] == sorted(["a3", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12",
                               "s", "n1", "n2"])  # fmt: skip
    assert lists[-1] == [NEVER_ANSWERED]
    # Converted through the revisit results, each on the day its result was reported.
    with session_scope(db_url) as session:
        stored = dict(
            session.execute(
                select(Lead.id, Lead.converted_at).where(Lead.converted_at.is_not(None))
            ).all()
        )
    assert {by_id[i]: at for i, at in stored.items() if i in by_id} == converted_on
    assert sorted(converted_on) == ["a1", "a11", "a5", "a6", "a9", "n1", "s"]
    assert converted_on["a6"] == datetime(2027, 2, 2, 10, 0, tzinfo=SH)
