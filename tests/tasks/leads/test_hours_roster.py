"""The agents' roster: assignment skips an agent's day off (on the service day, so a lead
stored after the close goes to the next day's agents); a peak date short of night cover
warns the call supervisor once."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Campaign, Lead, Notification, Person
from domain.models_roster import AgentRosterDay
from flows.leads.intake import leads_intake
from flows.notifications import deliver_notifications
from tasks.leads.assignment import assign_open_leads
from tasks.leads.common import LeadsError
from tasks.leads.roster import check_peak_roster, set_roster

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 12, 7)


def _roster(db_url, agent: str, days: dict[date, str], by: str = "call.supervisor") -> None:
    at = datetime(2026, 12, 1, 9, tzinfo=SH)
    with session_scope(db_url) as session:
        set_roster(session=session, agent=agent, days=days, by=by, now=at)


def _leads(db_url, count: int, *, arrived: datetime, start: int = 0) -> None:
    with session_scope(db_url) as session:
        for n in range(start, start + count):
            session.add(
                Lead(
                    phone=f"+86138100{n:05d}",
                    name=f"客户{n}",
                    city="成都",
                    region_code="chengdu",
                    source="官网",
                    sources=["官网"],
                    arrived_at=arrived,
                    business_day=arrived.date(),
                    call_day=arrived.date(),
                    next_call_due=arrived.date(),
                )
            )


def _assigned(db_url) -> Counter:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(Person.username).join(Lead, Lead.agent_id == Person.id)
        ).scalars()
        return Counter(rows)


def _assign(db_url, now: datetime):
    with session_scope(db_url) as session:
        return assign_open_leads(session=session, now=now, settings=get_settings())


def test_assignment_skips_the_agents_off_that_day(lead_world, db_url):
    _roster(db_url, "agent1", {MONDAY: "off"})
    _roster(db_url, "agent2", {MONDAY: "off", date(2026, 12, 8): "on"})
    _leads(db_url, 8, arrived=datetime(2026, 12, 7, 10, tzinfo=SH))

    monday = _assign(db_url, datetime(2026, 12, 7, 10, 30, tzinfo=SH))

    assert monday.by_agent == {"agent3": 2, "agent4": 2, "agent5": 2, "agent6": 2}
    assert _assigned(db_url) == {"agent3": 2, "agent4": 2, "agent5": 2, "agent6": 2}
    # Tuesday both are back (agent2's "on" simply records it): they get the new leads first.
    _leads(db_url, 2, arrived=datetime(2026, 12, 8, 10, tzinfo=SH), start=100)
    tuesday = _assign(db_url, datetime(2026, 12, 8, 10, 30, tzinfo=SH))
    assert tuesday.by_agent == {"agent1": 1, "agent2": 1}


def test_after_the_close_leads_go_to_the_next_days_agents(lead_world, db_url):
    # Sunday 23:30: the service has closed, these leads are Monday's calls.
    _roster(db_url, "agent1", {MONDAY: "off"})
    _leads(db_url, 5, arrived=datetime(2026, 12, 6, 23, 20, tzinfo=SH))
    sunday_night = _assign(db_url, datetime(2026, 12, 6, 23, 30, tzinfo=SH))
    assert sunday_night.assigned == 5 and "agent1" not in sunday_night.by_agent
    # The same hour on Monday night: Tuesday's agents, agent1 among them.
    _leads(db_url, 6, arrived=datetime(2026, 12, 7, 23, 20, tzinfo=SH), start=100)
    monday_night = _assign(db_url, datetime(2026, 12, 7, 23, 30, tzinfo=SH))
    assert monday_night.by_agent.get("agent1") == 2


def test_only_the_call_supervisor_changes_the_roster(lead_world, db_url):
    with pytest.raises(LeadsError, match="agent3.*call_agent; changing the roster is for call_sup"):
        _roster(db_url, "agent1", {MONDAY: "off"}, by="agent3")
    with pytest.raises(LeadsError, match="'dealer.ch001' is not a call agent"):
        _roster(db_url, "dealer.ch001", {MONDAY: "off"})
    _roster(db_url, "agent1", {MONDAY: "off"})
    _roster(db_url, "agent1", {MONDAY: "night"})  # changed, not added twice
    with session_scope(db_url) as session:
        rows = session.execute(select(AgentRosterDay)).scalars().all()
        assert [(r.day, r.on_duty, r.night, r.set_by) for r in rows] == [
            (MONDAY, True, True, "call.supervisor")
        ]


def test_a_peak_date_short_of_night_cover_warns_the_supervisor_once(lead_channels, sink, db_url,
                                                                    settings_env):  # fmt: skip
    launch, festival, later = date(2026, 12, 5), date(2026, 12, 3), date(2026, 12, 20)
    settings_env(leads_peak_dates=f'["{festival}", "{later}"]')
    with session_scope(db_url) as session:
        session.add(
            Campaign(
                code="2026-x1",
                name="X1 上市",
                kind="launch",
                launch_date=launch,
                end_date=date(2026, 12, 20),
                created_by="hq.manager",
            )  # fmt: skip
        )
    for agent in ("agent1", "agent2"):
        _roster(db_url, agent, {launch: "night"})
    _roster(db_url, "agent3", {festival: "night"})
    _roster(db_url, "agent4", {festival: "off"})
    now = datetime(2026, 12, 1, 10, tzinfo=SH)

    # The intake run (the one that sends the call lists) checks the week ahead, twice.
    first = leads_intake(files=[], pull_source=False, now=now)
    second = leads_intake(files=[], pull_source=False, now=now)
    assert (first["peak_dates_short"], second["peak_dates_short"]) == (1, 1)
    deliver_notifications(now=now)
    [message] = sink.to("role/call_supervisor")
    assert message.title == "高峰日值守不足 2026-12-03：夜班 1/2 人"
    assert "至少 2 人值夜班；目前排班只有 1 人" in message.body
    assert "/go/" in message.body  # the link to the roster page
    with session_scope(db_url) as session:
        keys = session.execute(select(Notification.idem_key)).scalars().all()
    assert keys == ["leads:peak-roster:2026-12-03"]

    # Once covered, the check finds nothing short; Dec 20 is beyond the week ahead.
    _roster(db_url, "agent5", {festival: "night"})
    with session_scope(db_url) as session:
        check = check_peak_roster(session=session, now=now, settings=get_settings())
    assert check.peak_dates == [festival, launch] and check.short == {}


def test_a_call_list_names_the_days_service_hours(lead_world, db_url, settings_env):
    from tasks.leads.call_lists import queue_call_lists

    settings_env(leads_peak_dates='["2026-12-05"]')
    _leads(db_url, 1, arrived=datetime(2026, 12, 5, 2, tzinfo=SH))  # a peak date's night
    _leads(db_url, 1, arrived=datetime(2026, 12, 7, 10, tzinfo=SH), start=100)
    _assign(db_url, datetime(2026, 12, 7, 10, 30, tzinfo=SH))
    with session_scope(db_url) as session:
        queue_call_lists(
            session=session, now=datetime(2026, 12, 7, 10, 30, tzinfo=SH), settings=get_settings()
        )
    with session_scope(db_url) as session:
        bodies = sorted(session.execute(select(Notification.body)).scalars())
    [peak] = [b for b in bodies if "2026-12-05" in b]
    [normal] = [b for b in bodies if "2026-12-07" in b]
    assert "第 1、2 次呼叫请在 2026-12-05（客服时间 全天 24 小时（高峰日））完成" in peak
    assert "第 3 次呼叫在 2026-12-06" in peak
    assert "第 1、2 次呼叫请在 2026-12-07（客服时间 09:00–23:00）完成" in normal
