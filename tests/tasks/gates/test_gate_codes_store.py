"""Decision codes in the store, on SQLite and PostgreSQL: a person who may decide gets one
message with a code (stored hashed) when they need one, an answer needs a live code of its
decider, the code is used once, expires, and stops working after too many wrong tries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from blocks.channels import NotificationChannels
from clubflow.core.db import migrate, session_scope
from clubflow.core.settings import get_settings
from clubflow.world import WorldSize, seed_demo_world
from domain.gates import GateSpec
from domain.models import Decision, DecisionCode, GateStatus, Notification, Role
from tasks.gates.code_sending import send_decision_code
from tasks.gates.store import open_gate, record_decision

NOW = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


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


def send(session, gate_id, username="specialist.chengdu", now=NOW, **kwargs):
    return send_decision_code(
        session=session,
        gate_id=gate_id,
        username=username,
        now=now,
        settings=get_settings(),
        **kwargs,
    )


def answer(session, gate_id, code, decider="specialist.chengdu", now=NOW, **kwargs):
    return record_decision(
        session=session,
        gate_id=gate_id,
        decider=decider,
        outcome=kwargs.pop("outcome", "approve"),
        now=now,
        settings=get_settings(),
        code=code,
        **kwargs,
    )


def messages(session, username):
    return list(
        session.execute(
            select(Notification)
            .where(Notification.recipient == f"person:{username}")
            .order_by(Notification.id)
        ).scalars()
    )


def code_in(message: Notification) -> str:
    [code] = re.findall(r"决定码 (\d{6})", message.body)
    return code


def test_a_person_who_may_decide_gets_one_message_with_a_code_stored_hashed(store):
    with session_scope(store) as session:
        regional = open_gate(session=session, spec=spec(), now=NOW)
        hq = open_gate(
            session=session,
            spec=spec(key="plan_review", owner_role=Role.campaign_manager, owner_region=None),
            now=NOW,
        )
        assert send(session, regional.id, run_url="http://ui/runs/flow-run/r1") is True
        assert send(session, regional.id) is False  # holds a live one: a replay sends nothing
        assert send(session, hq.id, "hq.manager2") is True
        # Only who may decide the gate: another region's specialist, another role, nobody.
        assert send(session, regional.id, "specialist.beijing") is False
        assert send(session, hq.id, "it.lead") is False
        assert send(session, hq.id, "no.such.user") is False
        [message] = messages(session, "specialist.chengdu")
        rows = session.execute(select(DecisionCode).order_by(DecisionCode.id)).scalars().all()
        others = [messages(session, u) for u in ("hq.manager", "specialist.beijing", "it.lead")]
    code = code_in(message)
    assert message.title == "您的决定码：雨林穿越 · 区域专员审核"
    assert "有人以您的用户名 specialist.chengdu 在 Prefect 界面回答" in message.body
    assert "2026-08-06 10:00 前有效" in message.body  # 72 hours
    assert "表单所在页面：http://ui/runs/flow-run/r1" in message.body
    assert message.idem_key == f"gate:{regional.id}:code:{rows[0].id}"
    assert [(r.gate_id, r.username) for r in rows] == [
        (regional.id, "specialist.chengdu"),
        (hq.id, "hq.manager2"),
    ]
    assert all(code not in r.code_hash and len(r.code_hash) == 64 for r in rows)
    assert others == [[], [], []]


def test_the_code_decides_once_and_the_decision_uses_it_up(store):
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        send(session, gate.id)
        code = code_in(messages(session, "specialist.chengdu")[0])
        accepted = answer(session, gate.id, code, now=NOW + timedelta(hours=1))
        row = session.execute(select(DecisionCode)).scalar_one()
    assert accepted.accepted and accepted.gate_status == GateStatus.decided
    assert row.used_at == NOW + timedelta(hours=1)


def test_an_answer_without_the_code_or_with_someone_elses_is_refused_and_recorded(store):
    with session_scope(store) as session:
        gate = open_gate(
            session=session,
            spec=spec(key="plan_review", owner_role=Role.campaign_manager, owner_region=None),
            now=NOW,
        )
        send(session, gate.id, "hq.manager")
        send(session, gate.id, "hq.manager2")
        theirs = code_in(messages(session, "hq.manager2")[0])
        refusals = [
            answer(session, gate.id, "", decider="hq.manager"),
            answer(session, gate.id, theirs, decider="hq.manager"),
            # The wrong person is refused for who they are, whatever code they type.
            answer(session, gate.id, theirs, decider="it.lead"),
        ]
        rows = session.execute(select(Decision).order_by(Decision.id)).scalars().all()
        unused = session.execute(
            select(DecisionCode.username).where(DecisionCode.used_at.is_(None))
        ).scalars()
        unused = sorted(unused)
    assert [r.accepted for r in refusals] == [False, False, False]
    assert [(d.decider, d.refusal_reason) for d in rows] == [
        (
            "hq.manager",
            "no decision code: type the one sent to hq.manager (it works until 2026-08-06 10:00)",
        ),
        ("hq.manager", "wrong decision code for hq.manager"),
        ("it.lead", "user 'it.lead' is it, this gate needs campaign_manager"),
    ]
    assert unused == ["hq.manager", "hq.manager2"]  # a refusal uses no code


def test_an_expired_code_is_refused_and_a_new_one_is_sent_that_works(store):
    later = NOW + timedelta(hours=72)
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        send(session, gate.id)
        old = code_in(messages(session, "specialist.chengdu")[0])
        refused = answer(session, gate.id, old, now=later)
        assert send(session, gate.id, now=later) is True
        first, second = messages(session, "specialist.chengdu")
        accepted = answer(session, gate.id, code_in(second), now=later)
    assert refused.reason == "decision code expired at 2026-08-06 10:00; a new one is sent"
    assert first.idem_key != second.idem_key and code_in(first) == old
    assert accepted.accepted


def test_too_many_wrong_codes_withdraw_the_code_and_a_new_one_is_sent(store, settings_env):
    settings_env(decision_code_tries=3)
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        send(session, gate.id)
        good = code_in(messages(session, "specialist.chengdu")[0])
        wrong = next(c for c in ("000000", "000001") if c != good)
        reasons = [answer(session, gate.id, wrong).reason for _ in range(3)]
        withdrawn = answer(session, gate.id, good)
        assert send(session, gate.id) is True
        fresh = code_in(messages(session, "specialist.chengdu")[1])
        accepted = answer(session, gate.id, fresh)
    assert reasons == [
        "wrong decision code for specialist.chengdu",
        "wrong decision code for specialist.chengdu",
        "wrong decision code for specialist.chengdu (3 wrong: the code sent to "
        "specialist.chengdu no longer works; a new one is sent)",
    ]
    assert withdrawn.reason == "decision code expired at 2026-08-03 10:00; a new one is sent"
    assert accepted.accepted


def test_a_person_without_a_channel_gets_no_code_and_the_others_do(store):
    channels = NotificationChannels(people={"hq.manager2": "json://127.0.0.1:9/person"})
    with session_scope(store) as session:
        gate = open_gate(
            session=session,
            spec=spec(key="plan_review", owner_role=Role.campaign_manager, owner_region=None),
            now=NOW,
        )
        sent = [send(session, gate.id, u, channels=channels) for u in ("hq.manager", "hq.manager2")]
        codes = session.execute(select(DecisionCode.username)).scalars().all()
    assert sent == [False, True] and codes == ["hq.manager2"]


def test_a_decided_gate_sends_no_codes(store):
    with session_scope(store) as session:
        gate = open_gate(session=session, spec=spec(), now=NOW)
        record_decision(
            session=session,
            gate_id=gate.id,
            decider="specialist.chengdu",
            outcome="approve",
            now=NOW,
            settings=get_settings(),
        )
        assert send(session, gate.id) is False
