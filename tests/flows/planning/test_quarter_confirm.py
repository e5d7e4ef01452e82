"""HQ confirms the draft quarter plan before anything goes out; a host change needs a reason
and is recorded with who, when and why."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from quarter_support import confirm_quarter, draft_quarter
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Decision, Gate, Person, Role
from domain.models_planning import QuarterPlanRecord, RotationHosting
from domain.models_quarter import QuarterConfirmation
from flows.notifications import deliver_notifications
from tasks.gates.decisions import DecisionRefused, decide

SH = ZoneInfo("Asia/Shanghai")
MARCH_1 = datetime(2027, 3, 1, 9, 0, tzinfo=SH)  # drafts 2027Q2: Beijing, 12–13 June


def _admins(db_url) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        return session.execute(
            select(Person.username, Person.region_code).where(Person.role == Role.club_admin)
        ).all()


def _plan_messages(sink, username):
    inbox = sink.to(f"person/{username}")
    return (
        [m for m in inbox if "月度活动" in m.title],
        [m for m in inbox if m.title.startswith("邀请函")],
    )


def test_nothing_goes_out_before_hq_confirms_and_then_each_admin_hears_once(
    quarter_runner, sink, db_url, world, tmp_path
):
    quarter = draft_quarter(quarter_runner, now=MARCH_1, ics_dir=tmp_path)
    deliver_notifications(now=MARCH_1)
    admins = _admins(db_url)
    assert all(_plan_messages(sink, u) == ([], []) for u, _ in admins)
    assert not (tmp_path / "clubflow-2027Q2.ics").exists()  # the calendar waits too
    [ask] = sink.to("role/campaign_manager")
    assert ask.title == "请确认 2027Q2 季度计划草案（2027-03-08 前）"  # 5 working days
    assert "北京卫主办「草原奔袭」，2027-06-12 至 2027-06-13" in ask.body
    with session_scope(db_url) as session:
        gate = session.execute(select(Gate)).scalar_one()
    assert (gate.subject_type, gate.subject_code, gate.key, gate.status) == (
        "quarter_plan",
        "2027Q2",
        "quarter_confirm",
        "open",
    )

    # Only HQ's campaign manager confirms; a specialist's answer is refused and recorded.
    with pytest.raises(DecisionRefused, match="this gate needs campaign_manager"):
        decide(
            "quarter_plan:2027Q2",
            "quarter_confirm",
            decider="specialist.chengdu",
            outcome="approve",
            now=MARCH_1,
        )
    run = confirm_quarter(quarter_runner, quarter, now=MARCH_1)
    assert run.state.name == "Completed"
    deliver_notifications(now=MARCH_1)
    for username, region in admins:
        requests, invitations = _plan_messages(sink, username)
        assert len(requests) == 1, username
        assert len(invitations) == (0 if region == "beijing" else 1), username
    with session_scope(db_url) as session:
        row = session.execute(select(QuarterConfirmation)).scalar_one()
        refused = session.execute(select(Decision).where(Decision.accepted.is_(False))).all()
    assert (row.quarter, row.drafted_host, row.host, row.confirmed_by) == (
        "2027Q2",
        "beijing",
        "beijing",
        "hq.manager",
    )
    assert (row.changes, row.reason) == ([], "")
    assert len(refused) == 1
    assert (tmp_path / "clubflow-2027Q2.ics").exists()


def test_a_host_change_needs_a_reason_and_moves_the_invitations(
    quarter_runner, sink, db_url, world, tmp_path
):
    quarter = draft_quarter(quarter_runner, now=MARCH_1, ics_dir=tmp_path)
    change = {"host_region": "chengdu"}
    run = confirm_quarter(quarter_runner, quarter, now=MARCH_1, extra=change)
    assert run.state.name == "Suspended"  # refused: no reason; the gate waits again
    with session_scope(db_url) as session:
        [refused] = session.execute(
            select(Decision.refusal_reason).where(Decision.accepted.is_(False))
        ).scalars()
        assert session.execute(select(QuarterConfirmation)).first() is None
    assert refused == "a changed host or changed dates need a reason (comment)"
    deliver_notifications(now=MARCH_1)
    assert all(_plan_messages(sink, u) == ([], []) for u, _ in _admins(db_url))

    run = confirm_quarter(
        quarter_runner,
        quarter,
        now=MARCH_1,
        comment="成都车展联动",
        extra={**change, "crossing_starts_on": "2027-05-15", "crossing_ends_on": "2027-05-16"},
    )
    assert run.state.name == "Completed"
    with session_scope(db_url) as session:
        row = session.execute(select(QuarterConfirmation)).scalar_one()
        hosting = session.execute(select(RotationHosting)).scalar_one()
        plan = session.execute(select(QuarterPlanRecord)).scalar_one()
    assert (row.drafted_host, row.host, row.reason, row.confirmed_by) == (
        "beijing",
        "chengdu",
        "成都车展联动",
        "hq.manager",
    )
    assert row.changes == [
        "host beijing → chengdu",
        "dates 2027-06-12–2027-06-13 → 2027-05-15–2027-05-16",
    ]
    assert (hosting.region_code, hosting.override, hosting.reason) == (
        "chengdu",
        True,
        "成都车展联动",
    )
    assert (plan.crossing_region, plan.crossing_starts_on, plan.crossing_ends_on) == (
        "chengdu",
        date(2027, 5, 15),
        date(2027, 5, 16),
    )
    deliver_notifications(now=MARCH_1)
    for username, region in _admins(db_url):
        requests, invitations = _plan_messages(sink, username)
        assert len(requests) == 1, username
        assert len(invitations) == (0 if region == "chengdu" else 1), username
    [invitation] = _plan_messages(sink, "admin.be001")[1]
    assert "成都卫诚邀" in invitation.body and "2027-05-15 至 2027-05-16" in invitation.body
