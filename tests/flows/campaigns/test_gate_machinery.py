from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Decision, Gate
from tasks.gates.decisions import DecisionRefused, decide

# The probe and every decision act at one fixed time (never the clock): due the next day.
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _decisions(db_url):
    with session_scope(db_url) as session:
        return list(session.execute(select(Decision).order_by(Decision.id)).scalars())


def test_a_gate_waits_suspended_refuses_the_wrong_person_and_accepts_the_right_one(
    gate_runner, db_url
):
    run_id = gate_runner.start(
        "gate-probe", {"code": "P1", "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    assert run.name == "probe P1 · review"
    assert "probe" in run.tags

    with pytest.raises(DecisionRefused, match="needs chengdu"):
        decide("probe:P1", "review", decider="specialist.beijing", outcome="approve", now=NOW)
    assert gate_runner.run_pending() == []  # nothing resumed

    decide("probe:P1", "review", decider="specialist.chengdu", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.id == run_id
    assert run.state.is_completed(), run.state
    rows = _decisions(db_url)
    assert [(d.decider, d.accepted) for d in rows] == [
        ("specialist.beijing", False),
        ("specialist.chengdu", True),
    ]
    with session_scope(db_url) as session:
        gate = session.execute(select(Gate)).scalar_one()
    assert (gate.status, gate.outcome) == ("decided", "approve")


def test_a_refusal_given_through_the_resume_form_is_recorded_and_the_run_suspends_again(
    gate_runner, db_url
):
    from prefect.flow_runs import resume_flow_run

    run_id = gate_runner.start(
        "gate-probe", {"code": "P2", "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    gate_runner.run_pending()
    # What the UI's Resume form sends: the decider is a field, and the flow checks it.
    resume_flow_run(run_id, run_input={"decider": "it.lead", "outcome": "approve", "comment": ""})
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    assert [(d.decider, d.accepted, d.refusal_reason) for d in _decisions(db_url)] == [
        ("it.lead", False, "user 'it.lead' is it, this gate needs regional_specialist")
    ]

    decide(
        "P2",
        "review",
        decider="specialist.chengdu",
        outcome="revise",
        comment="more photos",
        now=NOW,
    )
    [run] = gate_runner.run_pending()
    assert run.state.is_completed()
    assert [(d.decider, d.accepted, d.outcome) for d in _decisions(db_url)] == [
        ("it.lead", False, "approve"),
        ("specialist.chengdu", True, "revise"),
    ]


def test_a_woken_run_waits_again_at_the_same_gate_and_records_nothing(gate_runner, db_url):
    from tasks.gates.decisions import wake_run

    run_id = gate_runner.start(
        "gate-probe", {"code": "P3", "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    gate_runner.run_pending()
    assert wake_run(str(run_id)) is True
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    assert _decisions(db_url) == []
    assert wake_run(str(run_id)) is True  # and again: each wake waits under a new key
    gate_runner.run_pending()

    decide("probe:P3", "review", decider="specialist.chengdu", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.state.is_completed()
    assert len(_decisions(db_url)) == 1


def test_an_unknown_gate_or_outcome_is_refused_by_name(gate_runner, db_url):
    from domain.gates import OutcomeError

    gate_runner.start("gate-probe", {"code": "P4", "due_on": "2026-12-01", "now": NOW.isoformat()})
    gate_runner.run_pending()
    with pytest.raises(LookupError, match="no gate 'signoff'"):
        decide("probe:P4", "signoff", decider="specialist.chengdu", outcome="approve", now=NOW)
    with pytest.raises(OutcomeError, match="not one of approve, revise, reject"):
        decide("probe:P4", "review", decider="specialist.chengdu", outcome="feasible", now=NOW)
    with pytest.raises(OutcomeError, match="needs a comment"):
        decide("probe:P4", "review", decider="specialist.chengdu", outcome="reject", now=NOW)
    assert _decisions(db_url) == []
