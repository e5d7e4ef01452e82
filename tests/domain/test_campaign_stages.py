"""The campaign's statuses and the pipeline's stages as a table: every move is data, one
function says where an outcome leads, and a move the process does not have is refused."""

from __future__ import annotations

from datetime import date

import pytest

from domain.campaigns import (
    CLOSED_FOR_CHANGES,
    DONE,
    PLAN_BOUND_GATES,
    STAGES,
    VOID,
    CampaignStatus,
    Position,
    Stage,
    StageError,
    StatusError,
    next_move,
    reopen,
    stage_due,
    status_move,
)
from domain.gates import OUTCOMES

S = CampaignStatus


def test_every_gate_answers_exactly_the_outcomes_of_its_kind():
    for stage, spec in STAGES.items():
        if spec.is_gate:
            assert set(spec.moves) == set(OUTCOMES[spec.kind]), stage
        elif not spec.is_end:
            assert set(spec.moves) == {DONE}, stage


def test_every_stage_is_reachable_and_the_walk_ends():
    seen, frontier = {Stage.plan_review}, [Stage.plan_review]
    while frontier:
        for move in STAGES[frontier.pop()].moves.values():
            if move.to not in seen:
                seen.add(move.to)
                frontier.append(move.to)
    assert seen == set(Stage)
    assert {s for s, spec in STAGES.items() if spec.is_end} == {Stage.reported, Stage.rejected}


def test_the_build_to_live_gates_follow_feasibility_in_order_with_their_owners():
    walk, position = [], Position()
    for outcome in ("approve", "approve", "feasible", DONE, "recorded", "confirmed"):
        position = position.after(next_move(position.stage, outcome))
        walk.append(position.stage)
    assert walk[2:] == [Stage.ready, Stage.slots, Stage.build_test, Stage.golive]
    owners = {s: (STAGES[s].owner, STAGES[s].kind) for s in walk[3:]}
    assert owners == {
        Stage.slots: ("agency", "record"),
        Stage.build_test: ("it", "confirmation"),
        Stage.golive: ("agency", "confirmation"),
    }
    # Every gate stands for a row of the timeline.
    assert all(spec.milestone for spec in STAGES.values() if spec.is_gate and spec.due.milestone)


@pytest.mark.parametrize(
    ("stage", "outcome", "to", "status", "done"),
    [
        (Stage.plan_review, "approve", Stage.signoff, None, ("plan_review",)),
        (Stage.plan_review, "revise", Stage.plan_revision, None, ()),
        (Stage.plan_review, "reject", Stage.rejected, S.rejected, ()),
        (Stage.plan_revision, "submit", Stage.plan_review, None, ()),
        (Stage.signoff, "approve", Stage.feasibility, S.signed, ("signoff",)),
        (Stage.signoff, "revise", Stage.plan_revision, None, ()),
        (Stage.signoff, "reject", Stage.rejected, S.rejected, ()),
        (Stage.feasibility, "feasible", Stage.ready, S.ready, ("feasibility",)),
        (Stage.feasibility, "not_feasible", Stage.plan_revision, None, ()),
        (Stage.ready, DONE, Stage.slots, None, ()),
        (Stage.slots, "recorded", Stage.build_test, None, ("slots",)),
        (Stage.build_test, "confirmed", Stage.golive, None, ("build_test",)),
        (Stage.golive, "confirmed", Stage.kpi_actuals, None, ("golive",)),
        (Stage.kpi_actuals, "submit", Stage.report, None, ()),
        (Stage.report, DONE, Stage.reported, S.reported, ("report",)),
    ],
)
def test_the_45_day_process(stage, outcome, to, status, done):
    move = next_move(stage, outcome)
    assert (move.to, move.status, move.done) == (to, status, done)


def test_a_void_gate_opens_its_next_round_and_a_wrong_outcome_is_refused():
    assert next_move(Stage.signoff, VOID).to == Stage.signoff
    with pytest.raises(StageError, match="plan_review has no outcome 'feasible'"):
        next_move(Stage.plan_review, "feasible")
    with pytest.raises(StageError, match="no outcome 'void'"):
        next_move(Stage.ready, VOID)
    with pytest.raises(StageError, match="it is the end"):
        next_move(Stage.rejected, "approve")


def test_rounds_follow_from_the_moves_in_order():
    position = Position()
    assert (position.stage, position.round) == (Stage.plan_review, 1)
    for outcome in ("revise", "submit", "approve", VOID, VOID):
        position = position.after(next_move(position.stage, outcome))
    assert (position.stage, position.round) == (Stage.signoff, 3)
    assert position.rounds[Stage.plan_review] == 2 and position.rounds[Stage.plan_revision] == 1


def test_due_rules():
    milestones = {
        "signoff": date(2026, 8, 21),
        "slots": date(2026, 9, 1),
        "build_test": date(2026, 9, 9),
        "golive": date(2026, 9, 18),
        "report": date(2026, 10, 4),
    }.__getitem__
    due = {
        stage: stage_due(
            stage,
            today=date(2026, 8, 3),
            milestone_due=milestones,
            quick_working_days=3,
            feasibility_working_days=2,
        )
        for stage, spec in STAGES.items()
        if spec.is_gate
    }
    assert due == {
        Stage.plan_review: date(2026, 8, 6),  # 3 working days, at the latest the sign-off date
        Stage.plan_revision: date(2026, 8, 6),
        Stage.signoff: date(2026, 8, 21),
        Stage.feasibility: date(2026, 8, 5),
        Stage.slots: date(2026, 9, 1),  # the timeline's rows
        Stage.build_test: date(2026, 9, 9),
        Stage.golive: date(2026, 9, 18),
        Stage.kpi_actuals: date(2026, 10, 4),
    }
    assert (Stage.plan_review, Stage.signoff) == PLAN_BOUND_GATES


@pytest.mark.parametrize(
    ("current", "target", "changes"),
    [
        (S.planning, S.signed, True),
        (S.signed, S.ready, True),
        (S.signed, S.rejected, True),  # IT sent it back and the next review rejected it
        (S.ready, S.live, True),
        (S.ready, S.reported, True),  # figures handed in before the sweep marked the end
        (S.live, S.reporting, True),
        (S.reporting, S.reported, True),
        (S.ready, S.signed, False),  # a replayed run passes sign-off again
        (S.reported, S.planning, False),
        (S.signed, S.signed, False),
    ],
)
def test_statuses_move_forward_and_a_replay_changes_nothing(current, target, changes):
    assert status_move(current, target) is changes


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.planning, S.ready), (S.signed, S.live), (S.rejected, S.ready), (S.reported, S.rejected)],
)
def test_a_move_the_process_does_not_have_is_refused(current, target):
    with pytest.raises(StatusError, match=f"a {current} campaign cannot become {target}"):
        status_move(current, target)


def test_only_an_amendment_before_live_sends_a_campaign_back_to_planning():
    assert {reopen(s) for s in (S.planning, S.signed, S.ready)} == {S.planning}
    for status in CLOSED_FOR_CHANGES:
        with pytest.raises(StatusError):
            reopen(status)
