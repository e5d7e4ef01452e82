"""Lost members' call-backs: opened once per lost episode, assigned to agents on duty, called
on the leads' rules; the churn reason lands in the segment report, a comeback is counted."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.leads_outcomes import OutcomeRejected
from domain.members import InteractionInput
from domain.models import Member, Person
from domain.models_audit import Refusal
from domain.models_retention import MemberCallback, MemberCallbackCall
from tasks.audit import Refused
from tasks.members.interactions import record_interactions
from tasks.members.segments import segment_members
from tasks.retention.callbacks import agent_callbacks, open_callbacks, record_callback_outcome

SH = ZoneInfo("Asia/Shanghai")
DAY1 = datetime(2026, 12, 1, 10, tzinfo=SH)
DAY2 = datetime(2026, 12, 2, 10, tzinfo=SH)
LOST = ["M000001", "M000002", "M000003"]


@pytest.fixture
def lost(world, db_url):
    """Three members idle since September 2025 (lost on 2026-12-01); everyone else expired."""
    with session_scope(db_url) as session:
        session.execute(update(Member).values(status="expired"))
        session.execute(
            update(Member)
            .where(Member.member_no.in_(LOST))
            .values(
                status="active",
                joined_at=datetime(2024, 1, 1, tzinfo=SH),
                activated_at=datetime(2024, 1, 1, tzinfo=SH),
                last_interaction_at=datetime(2025, 9, 1, 12, tzinfo=SH),
            )
        )
        segment_members(session=session, as_of=date(2026, 12, 1), now=DAY1, settings=get_settings())
        opened = open_callbacks(session=session, now=DAY1, settings=get_settings())
    return opened


def _agent_of(db_url, no: str) -> str:
    with session_scope(db_url) as session:
        return session.execute(
            select(Person.username)
            .join(MemberCallback, MemberCallback.agent_id == Person.id)
            .join(Member, Member.id == MemberCallback.member_id)
            .where(Member.member_no == no)
        ).scalar_one()


def _call(db_url, no, call_no, outcome, *, actor=None, reason=None, now=DAY1):
    with session_scope(db_url) as session:
        cb = record_callback_outcome(
            session=session,
            member_no=no,
            call_no=call_no,
            outcome=outcome,
            churn_reason=reason,
            actor=actor or _agent_of(db_url, no),
            now=now,
            settings=get_settings(),
        )
        return cb.status, cb.resolution, cb.next_call_no, cb.next_call_due, cb.churn_reason


def test_each_lost_member_gets_one_call_back_assigned_to_an_agent(lost, db_url):
    assert lost.opened == LOST
    assert sum(lost.assigned.values()) == 3 and lost.unassigned == 0
    with session_scope(db_url) as session:
        again = open_callbacks(session=session, now=DAY2, settings=get_settings())
        rows = list(session.execute(select(MemberCallback)).scalars())
    assert again.opened == [] and again.assigned == {}
    assert len(rows) == 3
    assert {(r.call_day, r.third_call_due, r.next_call_no) for r in rows} == {
        (date(2026, 12, 1), date(2026, 12, 2), 1)
    }
    assert {r.lost_since for r in rows} == {date(2026, 9, 2)}  # last + 366 days


def test_calls_follow_the_lead_rules_and_a_connected_call_records_the_churn_reason(lost, db_url):
    assert _call(db_url, "M000001", 1, "关机") == (
        "open", "retrying", 2, date(2026, 12, 1), None
    )  # fmt: skip
    assert _call(db_url, "M000001", 2, "无人接听")[2:4] == (3, date(2026, 12, 2))
    assert _call(db_url, "M000001", 3, "关机", now=DAY2)[:2] == ("invalid", "invalid_powered_off")
    assert _call(db_url, "M000002", 1, "无意购车", reason="价格") == (
        "valid", "not_interested", 1, None, "price"
    )  # fmt: skip
    with pytest.raises(OutcomeRejected, match="缺少流失原因"):
        _call(db_url, "M000003", 1, "有意购车")
    assert _call(db_url, "M000003", 1, "空号")[:2] == ("invalid", "invalid_number")

    with session_scope(db_url) as session:
        calls = session.execute(
            select(MemberCallbackCall.call_no, MemberCallbackCall.outcome).order_by(
                MemberCallbackCall.id
            )
        ).all()
        assert agent_callbacks(session=session) == []  # every call-back closed
    assert [tuple(c) for c in calls] == [
        (1, "powered_off"),
        (2, "no_answer"),
        (3, "powered_off"),
        (1, "not_interested"),
        (1, "empty_number"),
    ]


def test_another_agent_is_refused_and_the_refusal_recorded(lost, db_url):
    owner = _agent_of(db_url, "M000001")
    other = next(a for a in ("agent1", "agent2", "agent3", "agent4") if a != owner)
    with pytest.raises(Refused, match=f"assigned to {owner}, not {other}"):
        _call(db_url, "M000001", 1, "关机", actor=other)
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
        assert session.execute(select(MemberCallbackCall)).first() is None
    assert [tuple(r) for r in rows] == [("member.callback", "member:M000001", other)]
    # The supervisor may record any call-back.
    assert _call(db_url, "M000001", 1, "关机", actor="call.supervisor")[0] == "open"


def test_the_segment_report_counts_churn_reasons_and_a_comeback_after_the_call(lost, db_url):
    _call(db_url, "M000002", 1, "无意购车", reason="换车")
    _call(db_url, "M000003", 1, "无意购车", reason="换车")
    with session_scope(db_url) as session:
        record_interactions(
            session=session,
            settings=get_settings(),
            interactions=[
                InteractionInput(member_no="M000002", kind="visit", ref="V-9", occurred_at=DAY2)
            ],
            now=DAY2,
        )
        report = segment_members(
            session=session, as_of=date(2026, 12, 7), now=DAY2, settings=get_settings()
        )
        comeback = session.execute(
            select(MemberCallback.reactivated_on)
            .join(Member, Member.id == MemberCallback.member_id)
            .where(Member.member_no == "M000002")
        ).scalar_one()
    assert comeback == date(2026, 12, 2)
    assert report.reactivated == 1
    assert sum(c.reactivated_after_callback for c in report.clubs) == 1
    churn = {}
    for club in report.clubs:
        for reason, n in club.churn.items():
            churn[reason] = churn.get(reason, 0) + n
    assert churn == {"换车": 2}
    region_rows = report.by_region()
    assert sum(r.get("churn:换车", 0) for r in region_rows.values()) == 2
