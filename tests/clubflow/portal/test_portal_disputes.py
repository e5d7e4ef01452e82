"""/disputes/new and /incidents/new: filed and reported as the signed-in person."""

from __future__ import annotations

from portal_client import csrf_of
from sqlalchemy import select

from clubflow.core.db import session_scope
from domain.models import Notification
from domain.models_audit import Refusal
from domain.models_disputes import Dispute, Incident


def test_dealer_staff_file_a_dispute(portal, db_url):
    client = portal.sign_in("dealer.ch001", "person/dealer.ch001")
    page = client.get("/disputes/new")
    assert page.status_code == 200 and "登记纠纷" in page.text
    done = client.post(
        "/disputes/new",
        data={
            "csrf": csrf_of(page.text),
            "kind": "customer_dealer",
            "claimant": "张先生 13812345678",
            "respondent": "CH001",
            "dealer": "CH001",
            "outlet": "",
            "summary": "保养费用争议",
        },
    )
    assert done.status_code == 200 and "已提交：DSP-" in done.text
    with session_scope(db_url) as session:
        row = session.execute(select(Dispute)).scalar_one()
        assert (row.filed_by, row.dealer_code) == ("dealer.ch001", "CH001")
        assert "13812345678" not in row.claimant


def test_incident_reported_by_the_signed_in_person_tells_hq(portal, db_url):
    client = portal.sign_in("admin.ch001", "person/admin.ch001")
    page = client.get("/incidents/new")
    assert page.status_code == 200
    done = client.post(
        "/incidents/new",
        data={
            "csrf": csrf_of(page.text),
            "kind": "accident",
            "activity": "",
            "outlet": "CH001 展厅",
            "place": "",
            "what": "试驾车剐蹭",
        },
    )
    assert done.status_code == 200 and "总部与大区专员已立即收到通知" in done.text
    with session_scope(db_url) as session:
        assert session.execute(select(Incident.reporter)).scalar_one() == "admin.ch001"
        recipients = set(session.execute(select(Notification.recipient)).scalars())
        assert "role:campaign_manager" in recipients


def test_finance_may_not_file_refusal_recorded(portal, db_url):
    client = portal.sign_in("finance", "person/finance")
    assert client.get("/disputes/new").status_code == 403
    with session_scope(db_url) as session:
        assert session.execute(select(Refusal.action)).scalar_one() == "dispute.file"
