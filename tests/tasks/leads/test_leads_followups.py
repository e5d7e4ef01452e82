"""After the calls: sweep reminders and escalation, appointments, the specialist fallback,
the weekly revisit and the daily statistics. Messages are checked as queued rows (text,
recipient, key) and re-running each step must queue nothing new."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import CallAttempt, Lead, LeadStatus, Notification, Person
from domain.models_leads import LeadHandoff, LeadRevisit
from tasks.leads.common import LeadsError
from tasks.leads.handoff import accept_handoff, bounce_overdue_handoffs, hand_off_valid_leads
from tasks.leads.revisit import list_revisits
from tasks.leads.statistics import daily_statistics, render_statistics
from tasks.leads.sweep import sweep_calls

SH = ZoneInfo("Asia/Shanghai")


def _sweep(db_url, **kwargs):
    """One sweep in its own transaction, as the sweep-calls task runs it."""
    with session_scope(db_url) as session:
        return sweep_calls(session=session, **kwargs)


def _agent_ids(db_url) -> dict[str, int]:
    with session_scope(db_url) as session:
        return dict(session.execute(select(Person.username, Person.id)).all())


def _lead(session, n: int, **values) -> Lead:
    arrived = values.pop("arrived_at", datetime(2026, 10, 12, 9, 0, tzinfo=SH))
    lead = Lead(
        phone=f"+861380000{n:04d}",
        name=f"客户{n}",
        city=values.pop("city", "成都"),
        region_code=values.pop("region_code", "chengdu"),
        source=values.pop("source", "官网"),
        sources=["官网"],
        arrived_at=arrived,
        business_day=arrived.astimezone(SH).date(),
        **values,
    )
    session.add(lead)
    session.flush()
    return lead


def _notifications(db_url) -> list[Notification]:
    with session_scope(db_url) as session:
        return list(session.execute(select(Notification).order_by(Notification.id)).scalars())


def test_overdue_calls_remind_each_agent_once_a_day_then_the_supervisor(lead_world, db_url):
    ids = _agent_ids(db_url)
    with session_scope(db_url) as session:
        for n in range(3):  # due Mon Oct 12: one working day late on Tue
            _lead(session, n, agent_id=ids["agent1"], next_call_due=date(2026, 10, 12))
        _lead(session, 10, agent_id=ids["agent2"], next_call_due=date(2026, 10, 13))  # due today
        _lead(session, 11, agent_id=ids["agent2"], next_call_due=date(2026, 10, 9))  # 2 days late
    settings = get_settings()

    tuesday = datetime(2026, 10, 13, 10, 0, tzinfo=SH)
    result = _sweep(db_url, now=tuesday, settings=settings)
    again = _sweep(db_url, now=tuesday + timedelta(minutes=15), settings=settings)

    assert (result.overdue_calls, result.agents_reminded, result.escalated_calls) == (4, 2, 1)
    assert result.by_agent == {"agent1": 3, "agent2": 1}
    assert again.agents_reminded == 2  # counted again, but nothing new is queued
    rows = _notifications(db_url)
    assert [(r.recipient, r.title) for r in rows] == [
        ("person:agent1", "逾期外呼提醒：3 通未完成"),
        ("person:agent2", "逾期外呼提醒：1 通未完成"),
        ("role:call_supervisor", "外呼逾期上报 2026-10-13：1 通"),
    ]
    assert "最早应于 2026-10-12" in rows[0].body
    assert "客服2号（agent2）：1 通" in rows[2].body
    # Nothing while the service is closed (02:00 of a normal day) ...
    night = _sweep(db_url, now=datetime(2026, 10, 14, 2, tzinfo=SH), settings=settings)
    assert (night.overdue_calls, night.agents_reminded) == (0, 0)
    # ... but the service team works on Sundays: the call due on Friday Oct 9 is overdue.
    sunday = _sweep(db_url, now=datetime(2026, 10, 11, 10, tzinfo=SH), settings=settings)
    assert (sunday.overdue_calls, sunday.by_agent) == (1, {"agent2": 1})
    # (one working day late too: Saturday Oct 10 was a make-up working day)
    assert [(r.recipient, r.title) for r in _notifications(db_url)[3:]] == [
        ("person:agent2", "逾期外呼提醒：1 通未完成"),
        ("role:call_supervisor", "外呼逾期上报 2026-10-11：1 通"),
    ]


def test_a_due_appointment_is_announced_once_to_its_agent(lead_world, db_url):
    ids = _agent_ids(db_url)
    at = datetime(2026, 10, 13, 15, 0, tzinfo=SH)
    with session_scope(db_url) as session:
        lead = _lead(
            session,
            1,
            agent_id=ids["agent3"],
            next_call_no=4,
            next_call_due=date(2026, 10, 13),
            appointment_at=at,
        )
    settings = get_settings()
    before = _sweep(db_url, now=at - timedelta(minutes=1), settings=settings)
    due = _sweep(db_url, now=at + timedelta(minutes=5), settings=settings)
    later = _sweep(db_url, now=at + timedelta(minutes=20), settings=settings)
    assert (before.appointments_due, due.appointments_due, later.appointments_due) == (0, 1, 0)
    (row,) = _notifications(db_url)
    assert row.recipient == "person:agent3"
    assert f"线索 #{lead.id}，预约 10-13 15:00" in row.body


def test_without_a_dealer_left_in_the_city_the_specialist_gets_the_lead(lead_world, db_url):
    settings = get_settings()
    handed_at = datetime(2026, 10, 13, 10, 0, tzinfo=SH)
    with session_scope(db_url) as session:
        # 北京 has one dealer (BE001); 拉萨 none at all.
        beijing = _lead(session, 1, city="北京", region_code="beijing",
                        status=LeadStatus.valid, outcome="interested")  # fmt: skip
        lhasa = _lead(session, 2, city="拉萨", region_code="chengdu",
                      status=LeadStatus.valid, outcome="interested")  # fmt: skip
    with session_scope(db_url) as session:
        first = hand_off_valid_leads(
            session=session, now=handed_at, settings=settings, channels=None
        )
    assert (first.handed, first.to_specialist) == (2, 1)

    with session_scope(db_url) as session, pytest.raises(LeadsError, match="not dealer:CH001"):
        accept_handoff(session=session, lead_id=beijing.id, dealer_code="CH001", now=handed_at)
    late = datetime(2026, 10, 14, 10, 1, tzinfo=SH)  # one working day and a minute later
    with session_scope(db_url) as session, pytest.raises(LeadsError, match="deadline"):
        accept_handoff(session=session, lead_id=beijing.id, dealer_code="BE001", now=late)
    with session_scope(db_url) as session:
        bounced = bounce_overdue_handoffs(
            session=session, now=late, settings=settings, channels=None
        )
    with session_scope(db_url) as session:
        again = bounce_overdue_handoffs(session=session, now=late, settings=settings, channels=None)
    assert (bounced.bounced, bounced.to_specialist, again.to_specialist) == (0, 1, 0)

    with session_scope(db_url) as session:
        rounds = session.execute(
            select(LeadHandoff.lead_id, LeadHandoff.round, LeadHandoff.recipient).order_by(
                LeadHandoff.lead_id, LeadHandoff.round
            )
        ).all()
    assert [tuple(r) for r in rounds] == [
        (beijing.id, 1, "dealer:BE001"),
        (beijing.id, 2, "role:regional_specialist:beijing"),
        (lhasa.id, 1, "role:regional_specialist:chengdu"),
    ]
    rows = _notifications(db_url)
    assert [r.recipient for r in rows] == [
        "dealer:BE001",
        "role:regional_specialist:chengdu",
        "role:regional_specialist:beijing",
    ]
    assert all(r.urgent for r in rows)
    assert "已有 1 家经销商未接收（逾期或退回）" in rows[2].body
    # Each message carries the deep link to the lead's page in the portal.
    assert "处理：http" in rows[2].body and "/go/" in rows[2].body
    assert "处理：" in rows[0].body and "clubflow leads accept" not in rows[0].body
    assert "+8613800000001" in rows[0].body  # the dealer's own channel carries the phone


def test_the_weekly_revisit_lists_unconverted_leads_once_a_week(lead_world, db_url):
    ids = _agent_ids(db_url)
    monday = datetime(2026, 12, 14, 9, 0, tzinfo=SH)
    old = monday - timedelta(days=70)
    with session_scope(db_url) as session:
        _lead(session, 1, agent_id=ids["agent1"], status=LeadStatus.valid, outcome="interested",
              closed_at=old, arrived_at=old)  # fmt: skip
        _lead(session, 2, agent_id=ids["agent1"], status=LeadStatus.valid, outcome="interested",
              closed_at=old, arrived_at=old, converted_at=old + timedelta(days=3))  # fmt: skip
        _lead(session, 3, agent_id=None, arrived_at=old)  # still open: the supervisor's list
        _lead(session, 4, agent_id=ids["agent2"], status=LeadStatus.valid,
              outcome="interested", closed_at=monday - timedelta(days=10))  # fmt: skip
    settings = get_settings()
    with session_scope(db_url) as session:
        first = list_revisits(session=session, now=monday, settings=settings, channels=None)
    with session_scope(db_url) as session:
        rerun = list_revisits(session=session, now=monday, settings=settings, channels=None)
    with session_scope(db_url) as session:
        next_week = list_revisits(
            session=session, now=monday + timedelta(days=7), settings=settings, channels=None
        )
    assert (first.added, rerun.added, next_week.added) == (2, 0, 2)
    assert first.listed == rerun.listed == next_week.listed == 2
    assert (next_week.carried_over, next_week.newly_due) == (2, 0)
    assert first.by_recipient == {"person:agent1": 1, "role:call_supervisor": 1}
    with session_scope(db_url) as session:
        weeks = sorted(set(session.execute(select(LeadRevisit.week_of)).scalars()))
    assert weeks == [date(2026, 12, 14), date(2026, 12, 21)]
    titles = [r.title for r in _notifications(db_url)]
    assert titles.count("本周回访名单（2026-12-14）：1 条") == 2
    assert len(titles) == 4


def test_daily_statistics_count_sources_agents_outcomes_and_rates(lead_world, db_url):
    ids = _agent_ids(db_url)
    day = datetime(2026, 10, 12, 9, 0, tzinfo=SH)
    with session_scope(db_url) as session:
        leads = [_lead(session, n, source=("官网", "懂车帝")[n % 2]) for n in range(4)]
        attempts = [("interested", "valid"), ("busy", "open"),
                    ("empty_number", "invalid"), ("no_answer", "open")]  # fmt: skip
        for lead, (code, status) in zip(leads, attempts, strict=True):
            session.add(
                CallAttempt(
                    lead_id=lead.id,
                    call_no=1,
                    outcome=code,
                    agent_id=ids["agent1"],
                    called_at=day + timedelta(hours=2),
                )  # fmt: skip
            )
            lead.status = LeadStatus(status)
            if status != "open":
                lead.closed_at = day + timedelta(hours=2)
            session.add(lead)
        session.flush()
        session.add(LeadHandoff(lead_id=leads[0].id, round=1, recipient="dealer:CH001",
                                handed_at=day + timedelta(hours=2),
                                accepted_at=day + timedelta(hours=5)))  # fmt: skip
    with session_scope(db_url) as session:
        stats = daily_statistics(session=session, day=date(2026, 10, 12))
    assert stats.leads_by_source == {"官网": 2, "懂车帝": 2}
    assert stats.calls_by_agent == {"agent1": 4}
    assert stats.calls == 4 and stats.connected == 1 and stats.contact_rate == 0.25
    assert (stats.closed_valid, stats.closed_invalid, stats.valid_rate) == (1, 1, 0.5)
    assert stats.acceptance_hours_median == 3.0
    markdown = render_statistics(stats)
    assert "| 接通率 contact rate | 25.0% |" in markdown
    assert "| 有意购车 interested | 1 |" in markdown
    assert "+86138" not in markdown
