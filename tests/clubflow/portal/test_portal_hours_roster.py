"""/roster: the call supervisor marks an agent's day off on the week grid; an agent sees only
their own week, read-only, and may not post; dealer staff are refused (and it is recorded)."""

from __future__ import annotations

from datetime import date

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models_audit import Refusal
from domain.models_portal import PortalAudit
from domain.models_roster import AgentRosterDay

WEEK = "2026-12-03"  # Thursday: the week of 30 November to 6 December


def _rows(db_url):
    with session_scope(db_url) as session:
        return session.execute(
            select(AgentRosterDay.day, AgentRosterDay.on_duty, AgentRosterDay.set_by)
        ).all()


def _refusals(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_the_supervisor_marks_a_day_off_on_the_week_grid(portal, db_url):
    client = portal.sign_in("call.supervisor", "person/call.supervisor")
    page = client.get(f"/roster?week_of={WEEK}")
    assert page.status_code == 200
    assert "客服排班" in page.text and "2026-11-30 至 2026-12-06" in page.text
    assert "客服1号" in page.text and "客服6号" in page.text
    assert 'aria-label="agent2 2026-12-05"' in page.text  # every cell is a form

    done = client.post(
        "/roster",
        data={"csrf": csrf_of(page.text), "agent": "agent2", "day": "2026-12-05", "state": "off"},
    )
    assert done.status_code == 200 and "已更新：agent2 2026-12-05 休" in done.text
    assert _rows(db_url) == [(date(2026, 12, 5), False, "call.supervisor")]
    with session_scope(db_url) as session:
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.subject, PortalAudit.detail).where(
                PortalAudit.action == "leads.roster"
            )
        ).all()
    assert [tuple(a) for a in audit] == [
        ("person:call.supervisor", "roster:agent2", "2026-12-05 off")
    ]


def test_an_agent_sees_only_their_own_week_and_may_not_change_it(portal, db_url):
    supervisor = portal.sign_in("call.supervisor", "person/call.supervisor")
    page = supervisor.get(f"/roster?week_of={WEEK}")
    supervisor.post(
        "/roster",
        data={"csrf": csrf_of(page.text), "agent": "agent1", "day": "2026-12-02", "state": "off"},
    )

    client = portal.sign_in("agent1", "person/agent1")
    mine = client.get(f"/roster?week_of={WEEK}")
    assert mine.status_code == 200
    assert "客服1号" in mine.text and "客服2号" not in mine.text
    assert "<form" not in mine.text.split("<table>")[1]  # read-only: no forms in the grid
    assert ">休</td>" in mine.text.replace("\n", "").replace(" ", "")

    refused = client.post(
        "/roster",
        data={"csrf": csrf_of(mine.text), "agent": "agent1", "day": "2026-12-03", "state": "off"},
    )
    assert refused.status_code == 403 and "不是客服主管" in refused.text
    assert _rows(db_url) == [(date(2026, 12, 2), False, "call.supervisor")]
    assert _refusals(db_url) == [("leads.roster", "roster:agent1", "agent1")]


def test_dealer_staff_are_refused_the_roster(portal, db_url):
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get("/roster")
    assert page.status_code == 403 and "无权查看客服排班" in page.text
    assert _refusals(db_url) == [("roster.view", "roster", "dealer:CH001")]
