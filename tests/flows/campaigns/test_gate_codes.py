"""Deciding in the Prefect UI with a one-time code: the gate sends each person who may decide
a code through their own channel; the Resume form's answer counts only with that person's
live code, once; `clubflow decide` needs none."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Decision, DecisionCode
from flows.notifications import deliver_notifications
from tasks.gates.decisions import decide

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _decisions(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Decision).order_by(Decision.id)).scalars()
        return [(d.decider, d.accepted, d.refusal_reason) for d in rows]


def _codes(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(DecisionCode).order_by(DecisionCode.id)).scalars()
        return [(c.username, c.used_at is not None) for c in rows]


def _codes_sent(sink, username) -> list[str]:
    deliver_notifications(now=NOW)
    return [
        code
        for message in sink.to(f"person/{username}")
        for code in re.findall(r"决定码 (\d{6})", message.body)
    ]


def _start(gate_runner, code):
    run_id = gate_runner.start(
        "gate-probe", {"code": code, "due_on": "2026-12-01", "now": NOW.isoformat()}
    )
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    return run_id


def _form(run_id, gate_runner, **answer):
    """What the UI's Resume form sends, then the run goes on (or suspends again)."""
    resume_flow_run(run_id, run_input={"outcome": "approve", "comment": "", **answer})
    [run] = gate_runner.run_pending()
    return run


def test_the_resume_form_decides_with_the_code_sent_to_the_decider(gate_runner, db_url, sink):
    run_id = _start(gate_runner, "C1")
    assert sink.to("person/specialist.chengdu") == []  # queued, not yet delivered
    [code] = _codes_sent(sink, "specialist.chengdu")
    [message] = sink.to("person/specialist.chengdu")
    assert message.title == "您的决定码：probe C1 · Probe review"
    assert f"/runs/flow-run/{run_id}" in message.body  # where the Resume form is

    run = _form(run_id, gate_runner, decider="specialist.chengdu", code=code)
    assert run.state.is_completed(), run.state
    assert _decisions(db_url) == [("specialist.chengdu", True, None)]
    assert _codes(db_url) == [("specialist.chengdu", True)]
    with session_scope(db_url) as session:
        payload = session.execute(select(Decision.payload)).scalar_one()
    assert "code" not in payload


def test_a_form_answer_without_the_right_code_is_refused_and_the_gate_waits(
    gate_runner, db_url, sink
):
    run_id = _start(gate_runner, "C2")
    [code] = _codes_sent(sink, "specialist.chengdu")
    wrong = "000000" if code != "000000" else "111111"

    run = _form(run_id, gate_runner, decider="specialist.chengdu")
    assert run.state.name == "Suspended"
    run = _form(run_id, gate_runner, decider="specialist.chengdu", code=wrong)
    assert run.state.name == "Suspended"
    run = _form(run_id, gate_runner, decider="specialist.chengdu", code=code)
    assert run.state.is_completed(), run.state
    assert _decisions(db_url) == [
        (
            "specialist.chengdu",
            False,
            "no decision code: type the code sent to specialist.chengdu for this gate "
            "(clubflow decide needs none)",
        ),
        ("specialist.chengdu", False, "wrong decision code for specialist.chengdu"),
        ("specialist.chengdu", True, None),
    ]
    # One code was sent, and replaying the run three times sent no other.
    assert _codes_sent(sink, "specialist.chengdu") == [code]


def test_wrong_codes_withdraw_the_code_and_the_run_sends_a_new_one(
    gate_runner, db_url, sink, settings_env
):
    settings_env(decision_code_tries=2)
    run_id = _start(gate_runner, "C3")
    [first] = _codes_sent(sink, "specialist.chengdu")
    wrong = "000000" if first != "000000" else "111111"
    for _ in range(2):
        _form(run_id, gate_runner, decider="specialist.chengdu", code=wrong)
    run = _form(run_id, gate_runner, decider="specialist.chengdu", code=first)
    assert run.state.name == "Suspended"
    sent = _codes_sent(sink, "specialist.chengdu")
    assert len(sent) == 2 and sent[0] == first

    run = _form(run_id, gate_runner, decider="specialist.chengdu", code=sent[1])
    assert run.state.is_completed(), run.state
    assert [reason for _, _, reason in _decisions(db_url)] == [
        "wrong decision code for specialist.chengdu",
        "wrong decision code for specialist.chengdu (2 wrong: the code sent to "
        "specialist.chengdu no longer works; a new one is sent)",
        "decision code expired at 2026-11-30 10:00; a new one is sent",
        None,
    ]


def test_clubflow_decide_needs_no_code_and_uses_the_one_it_mints(gate_runner, db_url, sink):
    _start(gate_runner, "C4")
    done = decide("probe:C4", "review", decider="specialist.chengdu", outcome="approve", now=NOW)
    assert "code" not in done.run_input
    [run] = gate_runner.run_pending()
    assert run.state.is_completed(), run.state
    # The one sent when the gate opened is left unused; the minted one decided.
    assert _codes(db_url) == [("specialist.chengdu", False), ("specialist.chengdu", True)]
    assert _codes_sent(sink, "specialist.chengdu") != []
