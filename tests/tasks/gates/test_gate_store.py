"""The gate store on SQLite and PostgreSQL: opening is idempotent, a replayed input writes
nothing, a refusal is recorded and keeps the gate open, a changed plan voids its sign-off."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.world import WorldSize, seed_demo_world
from domain.gates import GateSpec
from domain.models import Decision, Gate, GateStatus, Role
from tasks.gates.inbox import waiting_on
from tasks.gates.ladder import gate_ladder_notifications
from tasks.gates.store import open_gate, reach_gate, record_decision, void_stale_signoffs

NOW = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(any_db_url):
    migrate(any_db_url)
    with session_scope(any_db_url) as session:
        seed_demo_world(session=session, size=WorldSize(clubs_per_region=1, members=0, leads=0))
    return any_db_url


def spec(**overrides) -> GateSpec:
    data = {
        "subject_type": "activity",
        "subject_id": 7,
        "subject_code": "CD-2026-07",
        "subject_title": "雨林穿越",
        "key": "specialist_review",
        "title": "区域专员审核",
        "owner_role": Role.regional_specialist,
        "owner_region": "chengdu",
        "due_on": date(2026, 8, 6),
    }
    data.update(overrides)
    return GateSpec(**data)


def decide(session, gate_id, decider, outcome="approve", **kwargs):
    return record_decision(
        session=session,
        gate_id=gate_id,
        decider=decider,
        outcome=outcome,
        now=NOW,
        settings=get_settings(),
        **kwargs,
    )


def test_opening_twice_gives_one_row_and_the_newest_waiting_run(store):
    with session_scope(store) as session:
        first = open_gate(session=session, spec=spec(), now=NOW, flow_run_id="run-1")
        again = open_gate(session=session, spec=spec(), now=NOW, flow_run_id="run-2")
        count = session.execute(select(func.count()).select_from(Gate)).scalar_one()
    assert first.id == again.id and count == 1
    assert again.flow_run_id == "run-2"


def test_a_refusal_is_recorded_the_gate_waits_and_a_replayed_input_writes_nothing(store):
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        refused = decide(session, gate.id, "specialist.beijing", input_key="run:gate-1-0")
        accepted = decide(session, gate.id, "specialist.chengdu", input_key="run:gate-1-1")
        replayed = decide(session, gate.id, "specialist.chengdu", input_key="run:gate-1-1")
        rows = session.execute(select(Decision).order_by(Decision.id)).scalars().all()
        status = session.get(Gate, gate.id).status
    assert (refused.accepted, refused.gate_status) == (False, GateStatus.open)
    assert "this gate needs chengdu" in refused.reason
    assert accepted.accepted and replayed.replayed and replayed.decision_id == accepted.decision_id
    assert [(r.decider, r.accepted) for r in rows] == [
        ("specialist.beijing", False),
        ("specialist.chengdu", True),
    ]
    assert status == GateStatus.decided


def test_a_decided_gate_refuses_a_second_decision(store):
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        decide(session, gate.id, "specialist.chengdu")
        late = decide(session, gate.id, "specialist.chengdu", outcome="reject", comment="no")
    assert not late.accepted and "is decided" in late.reason


def test_a_sign_off_of_another_plan_hash_is_void_with_the_gates_waiting_after_it(store):
    with session_scope(store) as session:
        signoff = open_gate(
            session=session,
            spec=spec(
                subject_type="campaign",
                key="signoff",
                owner_role=Role.campaign_manager,
                owner_region=None,
            ),
            now=NOW,
        )
        signed = decide(session, signoff.id, "hq.manager", plan_hash="h1")
        feasibility = open_gate(
            session=session,
            spec=spec(
                subject_type="campaign",
                key="feasibility",
                owner_role=Role.it,
                owner_region=None,
                kind="feasibility",
            ),
            now=NOW,
        )
        same = void_stale_signoffs(
            session=session,
            subject_type="campaign",
            subject_id=7,
            key="signoff",
            current_hash="h1",
            now=NOW,
        )
        voided = void_stale_signoffs(
            session=session,
            subject_type="campaign",
            subject_id=7,
            key="signoff",
            current_hash="h2",
            now=NOW,
            downstream=("feasibility",),
        )
    assert signed.accepted and same == []
    assert {(g.key, g.status) for g in voided} == {
        ("signoff", GateStatus.void),
        ("feasibility", GateStatus.void),
    }
    assert feasibility.status == GateStatus.open


def test_the_inbox_lists_what_waits_on_a_person_overdue_first(store):
    with session_scope(store) as session:
        open_gate(
            session=session,
            spec=spec(subject_id=1, subject_code="A", due_on=date(2026, 8, 20)),
            now=NOW,
        )
        open_gate(
            session=session,
            spec=spec(subject_id=2, subject_code="B", due_on=date(2026, 8, 1)),
            now=NOW,
        )
        open_gate(
            session=session,
            spec=spec(subject_id=3, subject_code="C", owner_region="beijing"),
            now=NOW,
        )
        items = waiting_on(session=session, username="specialist.chengdu", today=date(2026, 8, 3))
    gate_items = [i for i in items if i.kind == "gate"]
    assert [(i.subject, i.overdue) for i in gate_items] == [
        ("activity:B", True),
        ("activity:A", False),
    ]


def test_the_ladder_marks_each_level_once(store):
    with session_scope(store) as session:
        open_gate(session=session, spec=spec(), now=NOW)
        on_due = gate_ladder_notifications(
            session=session, now=datetime(2026, 8, 6, 2, tzinfo=UTC), settings=get_settings()
        )
        again = gate_ladder_notifications(
            session=session, now=datetime(2026, 8, 6, 5, tzinfo=UTC), settings=get_settings()
        )
        later = gate_ladder_notifications(
            session=session, now=datetime(2026, 8, 10, 2, tzinfo=UTC), settings=get_settings()
        )
    assert [(r.recipient, r.template) for r in on_due] == [
        ("role:regional_specialist:chengdu", "gate_reminder")
    ]
    assert again == []
    assert [(r.recipient, r.template, r.idem_key) for r in later] == [
        ("role:campaign_manager", "gate_escalation", "gate:1:escalation")
    ]


def test_a_replay_under_new_code_finds_its_gates_in_order_and_opens_none_out_of_it(store):
    def reach(key, *, run="run-1", version="flow@1", met=()):
        return reach_gate(
            session=session,
            spec=spec(key=key),
            now=NOW,
            flow_run_id=run,
            process_version=version,
            met=list(met),
        )

    with session_scope(store) as session:
        review = reach("review").gate
        decide(session, review.id, "specialist.chengdu")
        signoff = reach("signoff", met=[review.id]).gate
        assert (review.process_version, signoff.process_version) == ("flow@1", "flow@1")

        # Version 2, replaying run-1: the recorded gates in their order are found ...
        again = reach("review", version="flow@2")
        assert again.gate.id == review.id and again.decision.outcome == "approve"
        assert reach("signoff", version="flow@2", met=[review.id]).gate.id == signoff.id
        # ... past them it opens what it asks for, under its version.
        final = reach("final", version="flow@2", met=[review.id, signoff.id]).gate
        assert final.process_version == "flow@2"
        # A gate asked for where the run had opened another is refused, and not opened.
        refused = reach("budget", version="flow@2", met=[review.id])
        assert refused.gate is None
        assert "asks for activity:CD-2026-07 budget r1" in refused.conflict
        assert "it opened activity:CD-2026-07 signoff r1 there" in refused.conflict
        assert session.execute(select(func.count()).select_from(Gate)).scalar_one() == 3
        # Another run meets run-1's decided gate as always: only a run's own gates count.
        reach("intro", run="run-2", version="flow@2")
        other = reach("review", run="run-2", version="flow@3")
        assert other.conflict is None and other.gate.flow_run_id == "run-1"
