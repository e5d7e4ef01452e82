"""Deciding in the Prefect UI with a one-time code: an answer sent through the Resume form
without a live code of its decider is refused, and the code goes to that person through
their own channel; the answer with it counts, once. `clubflow decide` needs none."""

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
ME = "specialist.chengdu"


def _decisions(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Decision).order_by(Decision.id)).scalars()
        return [(d.decider, d.accepted, d.refusal_reason) for d in rows]


def _codes(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(DecisionCode).order_by(DecisionCode.id)).scalars()
        return [(c.username, c.used_at is not None) for c in rows]


def _codes_sent(sink, username=ME) -> list[str]:
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


def _form(gate_runner, run_id, **answer):
    """What the UI's Resume form sends; then the run goes on (or suspends again)."""
    resume_flow_run(run_id, run_input={"decider": ME, "outcome": "approve", **answer})
    [run] = gate_runner.run_pending()
    return run


def test_the_form_gets_the_decider_a_code_and_decides_with_it(gate_runner, db_url, sink):
    run_id = _start(gate_runner, "C1")
    assert _codes_sent(sink) == []  # nobody is sent a code for a gate merely opening
    # An answer refused for what it says asks for no code yet.
    assert _form(gate_runner, run_id, outcome="reject").state.name == "Suspended"
    assert _codes_sent(sink) == []

    run = _form(gate_runner, run_id)
    assert run.state.name == "Suspended"
    [code] = _codes_sent(sink)
    [message] = sink.to(f"person/{ME}")
    assert message.title == "您的决定码：probe C1 · Probe review"
    assert f"/runs/flow-run/{run_id}" in message.body  # where the Resume form is

    run = _form(gate_runner, run_id, code=code)
    assert run.state.is_completed(), run.state
    assert _decisions(db_url) == [
        (ME, False, "a reject decision needs a comment saying why"),
        (
            ME,
            False,
            "no decision code yet: one is sent to specialist.chengdu; type it in the form "
            "(clubflow decide needs none)",
        ),
        (ME, True, None),
    ]
    assert _codes(db_url) == [(ME, True)]
    with session_scope(db_url) as session:
        payloads = session.execute(select(Decision.payload)).scalars().all()
    assert all("code" not in p for p in payloads)
    assert _codes_sent(sink) == [code]  # the replays sent no other


def test_a_wrong_code_or_someone_elses_name_decides_nothing(gate_runner, db_url, sink):
    run_id = _start(gate_runner, "C2")
    _form(gate_runner, run_id)
    [code] = _codes_sent(sink)
    wrong = "000000" if code != "000000" else "111111"

    assert _form(gate_runner, run_id, code=wrong).state.name == "Suspended"
    # Another region's specialist with the code: refused for who they are, and sent nothing.
    assert _form(gate_runner, run_id, decider="specialist.beijing", code=code).state.name == (
        "Suspended"
    )
    assert _form(gate_runner, run_id, code=code, outcome="reject").state.name == "Suspended"
    run = _form(gate_runner, run_id, code=code, outcome="reject", comment="照片不足")
    assert run.state.is_completed(), run.state
    assert [reason for _, _, reason in _decisions(db_url)][1:] == [
        "wrong decision code for specialist.chengdu",
        "user 'specialist.beijing' is regional_specialist of beijing, this gate needs chengdu",
        "a reject decision needs a comment saying why",  # the code still works after this
        None,
    ]
    assert _codes_sent(sink, "specialist.beijing") == []
    assert _codes_sent(sink) == [code]


def test_too_many_wrong_codes_withdraw_the_code_and_a_new_one_is_sent(
    gate_runner, db_url, sink, settings_env
):
    settings_env(decision_code_tries=2)
    run_id = _start(gate_runner, "C3")
    _form(gate_runner, run_id)
    [first] = _codes_sent(sink)
    wrong = "000000" if first != "000000" else "111111"
    for _ in range(2):
        _form(gate_runner, run_id, code=wrong)
    assert _form(gate_runner, run_id, code=first).state.name == "Suspended"
    sent = _codes_sent(sink)
    assert len(sent) == 2 and sent[0] == first

    run = _form(gate_runner, run_id, code=sent[1])
    assert run.state.is_completed(), run.state
    assert [reason for _, _, reason in _decisions(db_url)][1:] == [
        "wrong decision code for specialist.chengdu",
        "wrong decision code for specialist.chengdu (2 wrong: the code sent to "
        "specialist.chengdu no longer works; a new one is sent)",
        "decision code expired at 2026-11-30 10:00; type the newer one sent to specialist.chengdu",
        None,
    ]


def test_clubflow_decide_needs_no_code_and_sends_none(gate_runner, db_url, sink):
    _start(gate_runner, "C4")
    done = decide("probe:C4", "review", decider=ME, outcome="approve", now=NOW)
    assert "code" not in done.run_input
    [run] = gate_runner.run_pending()
    assert run.state.is_completed(), run.state
    assert _codes(db_url) == [(ME, True)]  # minted for the run and used by it
    assert _codes_sent(sink) == []
