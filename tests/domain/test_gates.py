from __future__ import annotations

from datetime import date

import pytest

from domain.gates import (
    Decider,
    DecisionResult,
    GateKind,
    GateMoveError,
    GateReached,
    GateSpec,
    GateView,
    Level,
    OutcomeError,
    RecordedGate,
    RunReplay,
    check_gate_move,
    escalation_date,
    levels_due,
    normalise_outcome,
    owner_recipient,
    refusal_reason,
    replay_conflict,
)
from domain.models import GateStatus

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


@pytest.mark.parametrize(
    ("current", "new"),
    [("open", "decided"), ("open", "void"), ("decided", "void")],
)
def test_a_gate_moves_open_to_decided_or_void_and_a_signoff_to_void(current, new):
    assert check_gate_move(current, new) == GateStatus(new)


@pytest.mark.parametrize(
    ("current", "new"),
    [("decided", "open"), ("void", "open"), ("void", "decided"), ("open", "open")],
)
def test_any_other_gate_move_is_refused(current, new):
    with pytest.raises(GateMoveError, match=f"a {current} gate cannot become {new}"):
        check_gate_move(current, new)


V1, V2 = "campaign-pipeline@1", "campaign-pipeline@2"
REVIEW = RecordedGate(1, "campaign:C plan_review r1", V1)
SIGNOFF = RecordedGate(2, "campaign:C signoff r1", V1)


def conflict(recorded, met, asked, asked_id, version=V2):
    return replay_conflict(
        recorded=recorded, met=met, asked=asked, asked_id=asked_id, version=version
    )


def test_a_replay_under_the_version_that_opened_its_gates_is_not_checked():
    assert conflict([REVIEW, SIGNOFF], [], "campaign:C other r1", None, version=V1) is None


def test_a_replay_under_new_code_meeting_the_recorded_gates_in_order_goes_on():
    assert conflict([REVIEW, SIGNOFF], [], REVIEW.label, 1) is None
    assert conflict([REVIEW, SIGNOFF], [1], SIGNOFF.label, 2) is None
    assert conflict([REVIEW, SIGNOFF], [1, 2], SIGNOFF.label, 2) is None  # the same gate again
    # Past the recorded path the new code opens what it asks for.
    assert conflict([REVIEW, SIGNOFF], [1, 2], "campaign:C feasibility r1", None) is None


def test_a_gate_the_old_run_never_opened_at_that_point_is_refused_naming_both():
    message = conflict([REVIEW, SIGNOFF], [1], "campaign:C budget r1", None)
    assert message == (
        f"it waited under {V1} and the code is now {V2}: as gate 2 of the run the new code "
        "asks for campaign:C budget r1, which the run never opened at that point (it opened "
        f"campaign:C signoff r1 there). Finish this run with {V1} (serve that code and retry "
        "the run), or void its open gates and start the flow again"
    )
    # Reordered: the sign-off asked for first.
    assert "asks for campaign:C signoff r1" in conflict([REVIEW, SIGNOFF], [], SIGNOFF.label, 2)


def test_gates_opened_before_versions_were_recorded_count_as_another_version():
    old = [RecordedGate(1, REVIEW.label, None), RecordedGate(2, SIGNOFF.label, None)]
    assert conflict(old, [], REVIEW.label, 1, version=V1) is None
    assert "waited under a version from before versions were recorded" in conflict(
        old, [1], "campaign:C budget r1", None, version=V1
    )


def _spec(key: str) -> GateSpec:
    return GateSpec(
        subject_type="campaign",
        subject_id=7,
        subject_code="C",
        key=key,
        title=key,
        owner_role="campaign_manager",
        due_on=date(2026, 9, 1),
    )


def _decided(gate_id: int, key: str) -> GateReached:
    gate = GateView(
        id=gate_id, subject_type="campaign", subject_id=7, subject_code="C", subject_title="",
        key=key, round=1, title=key, kind="approval", status=GateStatus.decided,
        owner_role="campaign_manager", owner_region=None, due_on=date(2026, 9, 1),
    )  # fmt: skip
    decision = DecisionResult(
        gate_id=gate_id, accepted=True, outcome="approve", decider="hq.manager",
        gate_status=GateStatus.decided,
    )  # fmt: skip
    return GateReached(gate=gate, decision=decision)


def test_a_replay_returns_the_gates_decided_before_the_execution_without_the_store():
    replay = RunReplay(
        recorded=[REVIEW, SIGNOFF, RecordedGate(3, "campaign:C feasibility r1", V1)],
        decided={REVIEW.label: _decided(1, "plan_review"), SIGNOFF.label: _decided(2, "signoff")},
    )
    assert replay.decided_gate(_spec("plan_review"), met=[], version=V1).gate.id == 1
    assert replay.decided_gate(_spec("signoff"), met=[1], version=V1).decision.outcome == "approve"
    # The gate it waited at was open when the execution started: the store is asked.
    assert replay.decided_gate(_spec("feasibility"), met=[1, 2], version=V1) is None


def test_a_replay_under_new_code_out_of_the_recorded_order_asks_the_store():
    replay = RunReplay(
        recorded=[REVIEW, SIGNOFF],
        decided={REVIEW.label: _decided(1, "plan_review"), SIGNOFF.label: _decided(2, "signoff")},
    )
    assert replay.decided_gate(_spec("plan_review"), met=[], version=V2).gate.id == 1
    # Sign-off asked first: a conflict, which the store's path reports (and fails the run).
    assert replay.decided_gate(_spec("signoff"), met=[], version=V2) is None
    # Past the recorded path under new code the store decides too.
    assert replay.decided_gate(_spec("signoff"), met=[1, 2], version=V2) is None
