"""A lead's deal in the portal: the accepting dealer's staff see the task, record the steps
with the form and see them with their dates; another dealer's staff are refused (recorded)."""

from __future__ import annotations

from datetime import timedelta

from portal_client import csrf_of
from sqlalchemy import select
from support_deals import seed_lead

from clubflow.core.db import session_scope
from domain.models import Lead
from domain.models_audit import Refusal
from domain.models_deals import LeadFollowUp
from domain.models_portal import PortalAudit


def _lead(db_url, portal) -> int:
    with session_scope(db_url) as session:
        return seed_lead(session, 1, arrived=portal.clock() - timedelta(days=2))


def _steps(db_url, lead_id):
    with session_scope(db_url) as session:
        rows = session.execute(
            select(LeadFollowUp.stage, LeadFollowUp.at, LeadFollowUp.by, LeadFollowUp.reason)
            .where(LeadFollowUp.lead_id == lead_id)
            .order_by(LeadFollowUp.id)
        ).all()
    return [tuple(r) for r in rows]


def _refusals(db_url):
    with session_scope(db_url) as session:
        rows = session.execute(select(Refusal.action, Refusal.subject, Refusal.actor)).all()
    return [tuple(r) for r in rows]


def test_the_dealers_staff_record_the_deal_on_the_lead_page(portal, db_url):
    lead_id = _lead(db_url, portal)
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")

    home = client.get("/")
    assert f"待跟进线索 #{lead_id}" in home.text and f'href="/leads/{lead_id}"' in home.text
    page = client.get(f"/leads/{lead_id}")
    assert "跟进与成交" in page.text and "记录跟进</button>" in page.text
    assert "+86138****0001" in page.text and "+8613800000001" not in page.text
    csrf = csrf_of(page.text)

    done = client.post(
        f"/leads/{lead_id}/follow-up",
        data={"csrf": csrf, "stage": "visited", "at": "2026-11-30T15:30", "note": ""},
    )
    assert done.status_code == 200 and "已记录跟进" in done.text
    assert "<td>已到店</td><td>2026-11-30 15:30</td>" in done.text
    assert f"待跟进线索 #{lead_id}" not in client.get("/").text

    lost = client.post(
        f"/leads/{lead_id}/follow-up", data={"csrf": csrf, "stage": "lost", "reason": ""}
    )
    assert lost.status_code == 409 and "reason: lost needs a reason" in lost.text
    assert _refusals(db_url) == []  # a wrong step is an error, not a refusal

    ordered = client.post(
        f"/leads/{lead_id}/follow-up", data={"csrf": csrf, "stage": "order", "at": ""}
    )
    assert ordered.status_code == 200 and "<td>已下订</td><td>2026-12-01 09:00</td>" in ordered.text
    assert [(s, by) for s, _at, by, _r in _steps(db_url, lead_id)] == [
        ("visited", "dealer.ch001"),
        ("order", "dealer.ch001"),
    ]
    with session_scope(db_url) as session:
        assert session.get(Lead, lead_id).converted_at == portal.clock()
        audit = session.execute(
            select(PortalAudit.outcome, PortalAudit.detail)
            .where(PortalAudit.action == "leads.follow_up")
            .order_by(PortalAudit.id)
        ).all()
    assert [a[0] for a in audit] == ["ok", "rejected", "ok"]


def test_another_dealers_staff_are_refused_and_it_is_recorded(portal, db_url):
    lead_id = _lead(db_url, portal)
    client = portal.sign_in("dealer.ch002", "person/dealer.ch002")
    home = client.get("/")
    refused = client.post(
        f"/leads/{lead_id}/follow-up",
        data={"csrf": csrf_of(home.text), "stage": "order", "at": ""},
    )
    assert refused.status_code == 403
    assert _refusals(db_url) == [("leads.follow_up", f"lead:{lead_id}", "dealer:CH002")]
    assert _steps(db_url, lead_id) == []


def test_a_call_agent_sees_the_steps_but_has_no_form(portal, db_url):
    lead_id = _lead(db_url, portal)
    dealer = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = dealer.get(f"/leads/{lead_id}")
    dealer.post(
        f"/leads/{lead_id}/follow-up",
        data={"csrf": csrf_of(page.text), "stage": "contacted", "at": ""},
    )
    agent = portal.sign_in("agent1", "person/agent1")  # the agent who called the customer
    page = agent.get(f"/leads/{lead_id}")
    assert page.status_code == 200 and "<td>已联系</td>" in page.text
    assert "记录跟进</button>" not in page.text
    refused = agent.post(
        f"/leads/{lead_id}/follow-up", data={"csrf": csrf_of(page.text), "stage": "order"}
    )
    assert refused.status_code == 403
    assert _refusals(db_url) == [("leads.follow_up", f"lead:{lead_id}", "agent1")]
