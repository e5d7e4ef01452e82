"""The call-outcome state machine against the call rules, every outcome × call number."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.leads_outcomes import (
    CLOSES_INVALID,
    CONNECTED,
    LABELS,
    RETRY,
    LeadState,
    Outcome,
    OutcomeRejected,
    Resolution,
    apply_outcome,
    parse_outcome,
)
from domain.leads_plan import CallPlan

SH = ZoneInfo("Asia/Shanghai")
# 2026-09-30 is the eve of National Day (Oct 1-7): the service team calls on Oct 1 all the same.
PLAN = CallPlan(call_day=date(2026, 9, 30), third_call_due=date(2026, 10, 1))
ON_CALL_DAY = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
APPOINTMENT = datetime(2026, 10, 9, 15, 0, tzinfo=SH)


def _apply(call_no: int, outcome: Outcome, *, appointment: datetime | None = APPOINTMENT):
    return apply_outcome(
        LeadState("open", call_no, PLAN),
        call_no=call_no,
        outcome=outcome,
        called_at=ON_CALL_DAY,
        appointment_at=appointment if outcome == Outcome.appointment else None,
    )


def _expected(call_no: int, outcome: Outcome):
    """The call rules written as a table: (status, resolution, next call no, due, hand-off)."""
    if outcome == Outcome.interested:
        return ("valid", Resolution.interested, None, None, True)
    if outcome == Outcome.not_interested:
        return ("valid", Resolution.not_interested, None, None, False)
    if outcome in (Outcome.wrong_number, Outcome.empty_number, Outcome.suspended):
        return ("invalid", Resolution.invalid_number, None, None, False)
    if call_no >= 3:
        if outcome == Outcome.powered_off:
            return ("invalid", Resolution.invalid_powered_off, None, None, False)
        if outcome == Outcome.appointment:
            return ("open", Resolution.awaiting_appointment, call_no + 1, date(2026, 10, 9), False)
        return ("invalid", Resolution.invalid_unreachable, None, None, False)
    if outcome == Outcome.appointment:
        return ("open", Resolution.retrying, call_no + 1, date(2026, 10, 9), False)
    # call 2 the same day; call 3 the next day (a holiday: the service team works)
    due = date(2026, 9, 30) if call_no == 1 else date(2026, 10, 1)
    return ("open", Resolution.retrying, call_no + 1, due, False)


@pytest.mark.parametrize("call_no", [1, 2, 3, 4])
@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
def test_every_outcome_at_every_call_follows_the_rules(call_no, outcome):
    t = _apply(call_no, outcome)
    assert (t.status, t.resolution, t.next_call_no, t.next_call_due, t.hand_off) == _expected(
        call_no, outcome
    )


def test_the_groups_cover_all_fifteen_codes_once():
    assert len(Outcome) == 15
    assert set(Outcome) == CONNECTED | CLOSES_INVALID | RETRY
    assert not (CONNECTED & CLOSES_INVALID) and not (RETRY & (CONNECTED | CLOSES_INVALID))


@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
def test_chinese_labels_and_english_codes_both_parse(outcome):
    assert parse_outcome(LABELS[outcome]) == outcome
    assert parse_outcome(outcome.value) == outcome
    assert parse_outcome(f" {outcome.value.upper()} ") == outcome


def test_an_unknown_code_is_rejected_with_the_code():
    with pytest.raises(OutcomeRejected, match="unknown outcome code '挂机'"):
        parse_outcome("挂机")


def test_an_outcome_for_a_closed_lead_is_rejected():
    with pytest.raises(OutcomeRejected, match="already closed"):
        apply_outcome(
            LeadState("invalid", 2, PLAN), call_no=2, outcome=Outcome.busy, called_at=ON_CALL_DAY
        )


@pytest.mark.parametrize(("expected", "given"), [(1, 2), (2, 1), (2, 3), (3, 1)])
def test_a_call_number_out_of_order_is_rejected(expected, given):
    with pytest.raises(
        OutcomeRejected, match=f"call {given} out of order.*next call is {expected}"
    ):
        apply_outcome(
            LeadState("open", expected, PLAN),
            call_no=given,
            outcome=Outcome.no_answer,
            called_at=ON_CALL_DAY,
        )


def test_an_appointment_after_call_3_needs_its_time():
    with pytest.raises(OutcomeRejected, match="needs the requested time"):
        _apply(3, Outcome.appointment, appointment=None)


def test_a_late_second_call_moves_the_third_to_the_next_day_after_it():
    t = apply_outcome(
        LeadState("open", 2, PLAN),
        call_no=2,
        outcome=Outcome.busy,
        called_at=datetime(2026, 10, 2, 11, 0, tzinfo=SH),  # a holiday: the next day is one too
    )
    assert t.next_call_due == date(2026, 10, 3)


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("open", "open", True),
        ("open", "valid", True),
        ("open", "invalid", True),
        ("valid", "open", False),
        ("valid", "invalid", False),
        ("invalid", "valid", False),
        ("invalid", "open", False),
    ],
)
def test_a_closed_lead_stays_closed(current, new, allowed):
    from domain.leads_outcomes import check_lead_move

    if allowed:
        assert check_lead_move(current, new) == new
    else:
        with pytest.raises(OutcomeRejected, match="already closed"):
            check_lead_move(current, new)
