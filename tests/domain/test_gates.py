from __future__ import annotations

from datetime import date

import pytest

from domain.gates import (
    Decider,
    GateKind,
    Level,
    OutcomeError,
    escalation_date,
    levels_due,
    normalise_outcome,
    owner_recipient,
    refusal_reason,
)

SPECIALIST_CD = Decider("specialist.chengdu", "regional_specialist", "chengdu")
SPECIALIST_BJ = Decider("specialist.beijing", "regional_specialist", "beijing")
MANAGER = Decider("hq.manager", "campaign_manager")


@pytest.mark.parametrize(
    ("decider", "owner_role", "owner_region", "refused_because"),
    [
        (SPECIALIST_CD, "regional_specialist", "chengdu", None),
        (SPECIALIST_BJ, "regional_specialist", "chengdu", "of beijing, this gate needs chengdu"),
        (MANAGER, "regional_specialist", "chengdu", "is campaign_manager, this gate needs"),
        (MANAGER, "campaign_manager", None, None),
        (SPECIALIST_CD, "campaign_manager", None, "this gate needs campaign_manager"),
        (Decider("old", "campaign_manager", active=False), "campaign_manager", None, "not active"),
        (None, "campaign_manager", None, "unknown user 'ghost'"),
    ],
)
def test_who_may_decide_a_gate(decider, owner_role, owner_region, refused_because):
    reason = refusal_reason(
        decider, owner_role=owner_role, owner_region=owner_region, username="ghost"
    )
    if refused_because is None:
        assert reason is None
    else:
        assert refused_because in reason


@pytest.mark.parametrize(
    ("kind", "given", "outcome"),
    [
        (GateKind.approval, "approve", "approve"),
        (GateKind.approval, " Revise ", "revise"),
        (GateKind.feasibility, "not-feasible", "not_feasible"),
        (GateKind.submission, "submit", "submit"),
    ],
)
def test_outcomes_are_normalised_per_kind(kind, given, outcome):
    assert normalise_outcome(kind, given) == outcome


@pytest.mark.parametrize(
    ("kind", "given"),
    [(GateKind.approval, "feasible"), (GateKind.feasibility, "approve"), ("approval", "ok")],
)
def test_an_outcome_the_gate_does_not_take_is_refused_listing_the_allowed(kind, given):
    with pytest.raises(OutcomeError, match=f"outcome '{given}' is not one of"):
        normalise_outcome(kind, given)


DUE = date(2026, 8, 6)  # a Thursday; +2 working days is Monday Aug 10


@pytest.mark.parametrize(
    ("today", "reminded", "escalated", "levels"),
    [
        (date(2026, 8, 5), False, False, []),
        (DUE, False, False, [Level.reminder]),
        (DUE, True, False, []),
        (date(2026, 8, 7), True, False, []),
        (date(2026, 8, 8), True, False, []),  # Saturday: not yet 2 working days
        (date(2026, 8, 10), True, False, [Level.escalation]),
        (date(2026, 8, 10), True, True, []),
        (date(2026, 8, 12), False, False, [Level.reminder, Level.escalation]),  # sweep was down
    ],
)
def test_the_reminder_escalation_ladder_gives_each_level_once(today, reminded, escalated, levels):
    assert (
        levels_due(
            due_on=DUE,
            today=today,
            reminded=reminded,
            escalated=escalated,
            escalate_after_working_days=2,
        )
        == levels
    )


def test_escalation_counts_working_days_over_a_holiday():
    # Sep 30 2026 (Wed) + 2 working days crosses the National Day holidays to Oct 9.
    assert escalation_date(date(2026, 9, 30), escalate_after_working_days=2) == date(2026, 10, 9)


def test_owner_recipients_narrow_to_the_region():
    assert owner_recipient("regional_specialist", "chengdu") == "role:regional_specialist:chengdu"
    assert owner_recipient("it", None) == "role:it"
