"""Leads in the portal as dealers use them: the hand-off message's link, sign-in, accept or
return with a reason; another dealer refused; late returns refused; the lists by role."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from portal_client import csrf_of
from sqlalchemy import select
from support_leads import EXTRA_DEALERS

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import business_date
from domain.leads_csv import OutcomeRow
from domain.models import Dealer, Lead, Person
from domain.models_audit import Refusal
from domain.models_leads import LeadHandoff
from domain.models_portal import PortalAudit

PHONE = "+8613812345678"
MASKED = "+86138****5678"


@pytest.fixture
def world(world, db_url):
    """The test world with a second dealer in 成都 (CH009): a returned lead goes there."""
    with session_scope(db_url) as session:
        session.add_all(Dealer(**row) for row in EXTRA_DEALERS)
    return world


def _interested_lead(db_url, portal, *, phone: str = PHONE, interested: bool = True) -> int:
    """A 成都 lead called by agent1; when the customer is interested it is handed to the
    city's first dealer (CH001) and the message queued, as the outcome import does."""
    from tasks.leads.handoff import hand_off_valid_leads
    from tasks.leads.outcomes import apply_outcome_rows

    now = portal.clock()
    with session_scope(db_url) as session:
        agent = session.execute(select(Person.id).where(Person.username == "agent1")).scalar()
        lead = Lead(
            phone=phone,
            name="王伟",
            model="越野SUV",
            city="成都",
            region_code="chengdu",
            source="汽车之家",
            sources=["汽车之家"],
            arrived_at=now - timedelta(hours=2),
            business_day=business_date(now),
            agent_id=agent,
            assigned_at=now - timedelta(hours=2),
            call_day=business_date(now),
            next_call_due=business_date(now),
        )
        session.add(lead)
        session.flush()
        lead_id = lead.id
    if interested:
        row = OutcomeRow(1, lead_id, 1, "有意购车", now - timedelta(minutes=30), "agent1", None)
        with session_scope(db_url) as session:
            _summary, rejects = apply_outcome_rows(session=session, rows=[row], now=now, source="t")
            assert rejects == []
            handed = hand_off_valid_leads(session=session, now=now, settings=get_settings())
            assert handed.rows[0][2] == "dealer:CH001"
    portal.app.state.portal.deliver()  # what the minute's delivery run would send
    return lead_id


def _sign_in_to(portal, client, next_path: str, identifier: str, inbox: str):
    """Sign in from the login page a deep link led to; returns the final response."""
    page = client.get(f"/login?next={next_path}")
    client.post(
        "/login/code",
        data={"identifier": identifier, "csrf": csrf_of(page.text), "next": next_path},
    )
    page = client.get(f"/login?next={next_path}")
    return client.post(
        "/login/verify",
        data={
            "identifier": identifier,
            "code": portal.last_code(inbox),
            "csrf": csrf_of(page.text),
            "next": next_path,
        },
    )


def _rounds(db_url, lead_id: int) -> list[SimpleNamespace]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(LeadHandoff).where(LeadHandoff.lead_id == lead_id).order_by(LeadHandoff.round)
        ).scalars()
        return [SimpleNamespace(**r.model_dump()) for r in rows]


def _refusals(db_url) -> list[tuple[str, str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_the_dealer_opens_the_message_link_signs_in_and_accepts(portal, db_url):
    lead_id = _interested_lead(db_url, portal)

    message = portal.sink.to("dealer/CH001")[-1]
    assert f"新意向线索 #{lead_id}（成都）" in message.title
    link = re.search(r"处理：(\S+)", message.body).group(1)
    client = portal.client()
    first = client.get(urlsplit(link).path, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?next=%2Fleads%2F{lead_id}"

    page = _sign_in_to(portal, client, f"/leads/{lead_id}", "dealer.ch001", "person/dealer.ch001")
    assert page.status_code == 200 and str(page.url).endswith(f"/leads/{lead_id}")
    assert f"线索 #{lead_id} 王伟" in page.text
    assert MASKED in page.text and PHONE not in page.text
    assert "越野SUV" in page.text and "汽车之家" in page.text and "interested" in page.text
    assert "接收此线索" in page.text and "dealer:CH001（第 1 轮）" in page.text

    done = client.post(f"/leads/{lead_id}/accept", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "已确认接收此线索" in done.text
    assert "接收此线索</button>" not in done.text
    [handoff] = _rounds(db_url, lead_id)
    assert handoff.accepted_at == portal.clock() and handoff.accepted_by == "CH001"
    with session_scope(db_url) as session:
        assert session.get(Lead, lead_id).accepted_at == portal.clock()
        audit = session.execute(
            select(PortalAudit.actor, PortalAudit.subject, PortalAudit.outcome).where(
                PortalAudit.action == "leads.accept"
            )
        ).all()
    assert [tuple(a) for a in audit] == [("person:dealer.ch001", f"lead:{lead_id}", "ok")]


def test_another_dealers_staff_are_refused_and_it_is_recorded(portal, db_url):
    lead_id = _interested_lead(db_url, portal)
    client = portal.sign_in("dealer.ch002", "person/dealer.ch002")

    page = client.get(f"/leads/{lead_id}")
    assert page.status_code == 403
    assert f"dealer:CH002 不能查看线索 #{lead_id}" in page.text
    home = client.get("/")
    accept = client.post(f"/leads/{lead_id}/accept", data={"csrf": csrf_of(home.text)})
    assert accept.status_code == 403
    assert _refusals(db_url) == [
        ("leads.view", f"lead:{lead_id}", "dealer:CH002"),
        ("leads.accept", f"lead:{lead_id}", "dealer:CH002"),
    ]
    assert _rounds(db_url, lead_id)[0].accepted_at is None


def test_a_return_needs_a_reason_and_gives_the_lead_to_the_next_dealer_of_the_city(portal, db_url):
    lead_id = _interested_lead(db_url, portal)
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get(f"/leads/{lead_id}")

    blank = client.post(
        f"/leads/{lead_id}/return", data={"csrf": csrf_of(page.text), "reason": "  "}
    )
    assert blank.status_code == 409 and "a return needs a reason" in blank.text
    assert _refusals(db_url) == [("leads.return", f"lead:{lead_id}", "dealer:CH001")]

    done = client.post(
        f"/leads/{lead_id}/return",
        data={"csrf": csrf_of(page.text), "reason": "客户已在本店购车，电话 13812345678"},
    )
    assert done.status_code == 200 and "已退回" in done.text
    first, second = _rounds(db_url, lead_id)
    assert first.bounced_at == portal.clock() and first.accepted_at is None
    assert first.returned_reason == "客户已在本店购车，电话 138****5678"
    assert (second.round, second.recipient, second.accepted_at) == (2, "dealer:CH009", None)
    assert second.due_at > portal.clock()
    # The next dealer was told at once, with the link to the lead.
    [message] = portal.sink.to("dealer/CH009")
    assert f"新意向线索 #{lead_id}（成都）" in message.title
    assert "上一家经销商未接收" in message.body and PHONE in message.body
    assert "处理：http" in message.body
    # The first dealer still sees the lead and why it left, but may no longer act on it.
    assert "退回" in done.text and "138****5678" in done.text and "13812345678" not in done.text
    assert "接收此线索</button>" not in done.text
    again = client.post(f"/leads/{lead_id}/accept", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 409 and "is with dealer:CH009 (round 2)" in again.text


def test_the_last_dealer_returning_hands_the_lead_to_the_specialist(portal, db_url):
    from tasks.leads.handoff import return_handoff

    lead_id = _interested_lead(db_url, portal)
    settings = get_settings()
    with session_scope(db_url) as session:
        return_handoff(session=session, lead_id=lead_id, dealer_code="CH001", reason="不在服务区",
                       now=portal.clock(), settings=settings)  # fmt: skip
    with session_scope(db_url) as session:
        last = return_handoff(session=session, lead_id=lead_id, dealer_code="CH009",
                              reason="无库存", now=portal.clock(), settings=settings)  # fmt: skip
        assert (last.round, last.recipient) == (3, "role:regional_specialist:chengdu")
    with session_scope(db_url) as session:
        from domain.models import Notification

        note = session.execute(
            select(Notification).where(Notification.idem_key == f"leads:handoff:{lead_id}:3")
        ).scalar_one()
    assert "已有 2 家经销商未接收（逾期或退回）" in note.body and "处理：" in note.body

    client = portal.sign_in("specialist.chengdu", "person/specialist.chengdu")
    listing = client.get("/leads")
    assert listing.status_code == 200 and f"#{lead_id}" in listing.text
    page = client.get(f"/leads/{lead_id}")
    assert "无库存" in page.text and "接收此线索" not in page.text


def test_a_return_after_the_deadline_is_refused(portal, db_url):
    lead_id = _interested_lead(db_url, portal)
    portal.clock.advance(days=3)  # past the one working day the dealer had
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get(f"/leads/{lead_id}")
    assert "确认期限已过" in page.text and "接收此线索" not in page.text

    late = client.post(
        f"/leads/{lead_id}/return", data={"csrf": csrf_of(page.text), "reason": "太忙"}
    )
    assert late.status_code == 409 and "has passed; it goes to the next dealer" in late.text
    [handoff] = _rounds(db_url, lead_id)
    assert handoff.bounced_at is None and handoff.returned_reason is None
    assert _refusals(db_url) == [("leads.return", f"lead:{lead_id}", "dealer:CH001")]


def test_the_lists_by_role_and_the_dealers_tasks(portal, db_url):
    handed = _interested_lead(db_url, portal)
    calling = _interested_lead(db_url, portal, phone="+8613900001234", interested=False)

    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    mine = dealer.get("/leads")
    assert mine.status_code == 200 and f"#{handed} 王伟 {MASKED}" in mine.text
    assert "待确认" in mine.text and f"#{calling} " not in mine.text and PHONE not in mine.text
    tasks = dealer.get("/")
    assert f"待确认线索 #{handed} · 越野SUV · 成都" in tasks.text
    assert f'href="/leads/{handed}"' in tasks.text
    due = _rounds(db_url, handed)[0].due_at.astimezone(portal.clock().tzinfo).date()
    assert f"截止 {due}" in tasks.text and due > date(2026, 12, 1)

    agent = portal.sign_in("agent1", "person/agent1")
    calls = agent.get("/leads")
    assert calls.status_code == 200 and f"#{calling}</a>" in calls.text
    assert "+86139****1234" in calls.text and f"#{handed}</a>" not in calls.text

    supervisor = portal.sign_in("call.supervisor", "person/call.supervisor")
    everything = supervisor.get("/leads")
    assert "共 2 条 · 第 1/1 页" in everything.text
    assert f"#{handed}</a>" in everything.text and f"#{calling}</a>" in everything.text

    finance = portal.sign_in("finance", "person/finance")
    assert finance.get("/leads").status_code == 403
    assert ("leads.list", "leads", "finance") in _refusals(db_url)
