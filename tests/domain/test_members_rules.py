"""Pure rules of the members area: ranks, tiers, FIFO expiry, birthdays, segments, windows."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.members import (
    Segment,
    activation_code,
    activation_window,
    birthday_in,
    code_matches,
    referral_reward_for_referrer,
    segment_for,
    sleeping_since,
)
from domain.models import MemberTier
from domain.points import (
    RANKS,
    LedgerLine,
    TierPolicy,
    expiries_due,
    expiring_within,
    expiry_date,
    grants_left,
    next_rank,
    rank_for,
    tier_for,
)

POLICY = TierPolicy(silver_points=5000, silver_services=3, gold_points=15000)


@pytest.mark.parametrize(
    ("points", "rank"),
    [
        (-50, "陪戎校尉"),
        (0, "陪戎校尉"),
        (99, "陪戎校尉"),
        (100, "仁勇校尉"),
        (199, "仁勇校尉"),
        (200, "宣节校尉"),
        (799, "昭武校尉"),
        (800, "定远将军"),
        (1200, "宣威将军"),
        (2999, "宣威将军"),
        (3000, "忠武将军"),
        (5000, "云麾将军"),
        (10000, "怀化大将军"),
        (20000, "辅国大将军"),
        (50000, "骠骑大将军"),
        (99999, "骠骑大将军"),
        (100000, "兵马大元帅"),
        (10**7, "兵马大元帅"),
    ],
)
def test_the_twelve_ranks_by_points(points, rank):
    assert rank_for(points) == rank


def test_there_are_twelve_ranks_and_the_next_one_is_named_with_the_gap():
    assert len(RANKS) == 12
    assert next_rank(150) == ("宣节校尉", 50)
    assert next_rank(100000) is None


@pytest.mark.parametrize(
    ("points", "services", "current", "review", "expected"),
    [
        (4999, 0, "ordinary", False, MemberTier.ordinary),
        (5000, 0, "ordinary", False, MemberTier.silver),
        (0, 3, "ordinary", False, MemberTier.silver),  # three service visits earn silver
        (14999, 9, "silver", False, MemberTier.silver),
        (15000, 0, "silver", False, MemberTier.gold),
        (15000, 0, "ordinary", False, MemberTier.gold),
        (100, 0, "gold", False, MemberTier.gold),  # no downgrade between reviews
        (100, 0, "gold", True, MemberTier.ordinary),  # the yearly review downgrades
        (6000, 0, "gold", True, MemberTier.silver),
    ],
)
def test_tiers_rise_at_once_and_fall_only_at_the_review(
    points, services, current, review, expected
):
    assert tier_for(points, services, current, POLICY, review=review) == expected


def test_birthdays_and_expiry_days_move_29_february_to_28_february():
    assert birthday_in(date(1992, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_in(date(1992, 2, 29), 2028) == date(2028, 2, 29)
    assert birthday_in(date(1990, 7, 14), 2027) == date(2027, 7, 14)
    assert expiry_date(date(2024, 2, 29), 2) == date(2026, 2, 28)


def test_fifo_expiry_takes_what_is_left_of_the_oldest_grants():
    lines = [
        LedgerLine(1, 300, date(2026, 12, 20)),
        LedgerLine(2, 500, date(2027, 3, 1)),
        LedgerLine(3, -400, None),  # spent: all of grant 1 and 100 of grant 2
    ]
    assert expiries_due(lines, date(2026, 12, 31)) == []
    assert [(e.entry_id, e.amount) for e in expiries_due(lines, date(2027, 3, 1))] == [(2, -400)]
    assert expiring_within(lines, date(2027, 2, 1), 30) == (400, date(2027, 3, 1))
    assert expiring_within(lines, date(2027, 1, 1), 30) == (0, None)


def test_an_expiry_row_already_written_consumes_its_grant():
    lines = [LedgerLine(1, 300, date(2026, 12, 20)), LedgerLine(9, -300, None)]
    assert expiries_due(lines, date(2027, 1, 1)) == []


# Random ledgers: grants on random days, spends never beyond the balance, expiry runs.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 2000), st.integers(0, 1500)),
        st.tuples(st.just("spend"), st.integers(1, 3000), st.integers(0, 1500)),
        st.tuples(st.just("expire"), st.just(0), st.integers(0, 1500)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_balance_is_the_sum_of_the_ledger_and_nothing_due_survives_an_expiry_run(ops):
    base = date(2024, 1, 1)
    lines: list[LedgerLine] = []
    next_id = 1
    for kind, amount, offset in sorted(ops, key=lambda op: op[2]):  # in time order
        today = date.fromordinal(base.toordinal() + offset)
        balance = sum(line.amount for line in lines)
        if kind == "grant":
            lines.append(LedgerLine(next_id, amount, expiry_date(today, 2)))
        elif kind == "spend":
            # Spending can only use what has not expired yet.
            lines += [
                LedgerLine(next_id + 1000 + i, e.amount)
                for i, e in enumerate(expiries_due(lines, today))
            ]
            balance = sum(line.amount for line in lines)
            if min(amount, balance) > 0:
                lines.append(LedgerLine(next_id, -min(amount, balance)))
        else:
            for expiry in expiries_due(lines, today):
                lines.append(LedgerLine(next_id + 5000 + expiry.entry_id, expiry.amount))
            assert all(g.left == 0 for g in grants_left(lines) if g.expires_on <= today)
            assert expiries_due(lines, today) == []  # a second run on the same day adds nothing
        next_id += 1
        balance = sum(line.amount for line in lines)
        left = grants_left(lines)
        assert balance >= 0
        assert sum(g.left for g in left) == balance
        assert all(g.left >= 0 for g in left)


def test_activation_window_reminds_on_day_3_and_expires_on_day_7():
    window = activation_window(date(2026, 3, 2), window_days=7, reminder_day=3)
    assert window.reminder_on == date(2026, 3, 5)
    assert window.expires_on == date(2026, 3, 9)
    assert window.last_day == date(2026, 3, 8)
    assert window.open_on(date(2026, 3, 8)) and not window.open_on(date(2026, 3, 9))
    with pytest.raises(ValueError, match="reminder day 7"):
        activation_window(date(2026, 3, 2), window_days=7, reminder_day=7)


def test_activation_codes_are_six_digits_per_member_and_round():
    code = activation_code("k", "M000061", 1)
    assert len(code) == 6 and code.isdigit()
    assert code != activation_code("k", "M000061", 2)
    assert code_matches("k", "M000061", 1, f" {code} ")
    assert not code_matches("other-key", "M000061", 1, code)


@pytest.mark.parametrize(
    ("last", "segment"),
    [
        (date(2026, 6, 1), Segment.active),  # 90 days before 2026-08-30
        (date(2026, 5, 31), Segment.sleeping),  # 91 days
        (date(2025, 8, 30), Segment.sleeping),  # 365 days
        (date(2025, 8, 29), Segment.lost),  # 366 days
    ],
)
def test_segments_by_days_since_the_last_interaction(last, segment):
    assert segment_for(last, date(2026, 8, 30), active_days=90, lost_days=365) == segment


def test_a_sleep_episode_is_named_by_its_first_day():
    assert sleeping_since(date(2026, 5, 31), active_days=90) == date(2026, 8, 30)


def test_the_referrer_is_rewarded_up_to_the_yearly_cap():
    assert referral_reward_for_referrer(200, 4, 5) == 200
    assert referral_reward_for_referrer(200, 5, 5) == 0


def test_a_member_moves_only_along_the_table_of_moves():
    from domain.members import MemberMoveRefused, MemberStatus, move_member

    assert move_member("registered", MemberStatus.active) == MemberStatus.active
    assert move_member("registered", MemberStatus.expired) == MemberStatus.expired
    assert move_member("expired", MemberStatus.registered) == MemberStatus.registered
    for current, to in [
        ("active", MemberStatus.registered),
        ("active", MemberStatus.expired),
        ("expired", MemberStatus.active),
    ]:
        with pytest.raises(MemberMoveRefused, match=f"{current} cannot become {to}"):
            move_member(current, to)
