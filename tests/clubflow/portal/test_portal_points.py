"""Points in the portal: HQ's budget page with the anomaly review, a member's own ledger."""

from __future__ import annotations

from datetime import timedelta

from portal_client import csrf_of
from sqlalchemy import select
from support_checkin import members_of, sign_in_member

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import business_date
from domain.models import Member
from domain.models_audit import Refusal
from domain.models_points import PointsAnomaly
from tasks.members import grant_points, recompute_members
from tasks.members.points_budget import flag_anomalies


def _seed(portal, db_url, member_no):
    now = portal.clock()
    settings = get_settings()
    with session_scope(db_url) as session:
        mid = session.execute(select(Member.id).where(Member.member_no == member_no)).scalar_one()
        grant_points(
            session=session,
            settings=settings,
            rows=[
                {
                    "member_id": mid,
                    "amount": 8000,
                    "reason": "spend:purchase",
                    "idem_key": "txn:P-1",
                    "occurred_at": now - timedelta(hours=1),
                },
                {
                    "member_id": mid,
                    "amount": -500,
                    "reason": "redeem:WASH-1",
                    "idem_key": "redeem:P-1",
                    "occurred_at": now - timedelta(minutes=30),
                },
            ],
        )
        recompute_members(session=session, member_ids=[mid], now=now, settings=settings)
        flag_anomalies(session=session, day=business_date(now), now=now, settings=settings)
    return mid


def test_finance_sees_the_budget_and_reviews_a_flag_a_club_admin_is_refused(portal, db_url):
    (no, _phone), *_ = members_of(db_url, "C-CH001")
    _seed(portal, db_url, no)
    finance = portal.sign_in("finance", "person/finance")
    page = finance.get("/points/budget")
    assert page.status_code == 200
    assert "8000 分（80.00 元）" in page.text and "500 分（5.00 元）" in page.text
    assert no in page.text and "+8000" in page.text
    with session_scope(db_url) as session:
        flag = session.execute(select(PointsAnomaly)).scalar_one()
    done = finance.post(
        f"/points/anomalies/{flag.id}/review",
        data={"csrf": csrf_of(page.text), "outcome": "confirmed", "note": "核实中"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_scope(db_url) as session:
        flag = session.get(PointsAnomaly, flag.id)
    assert (flag.status, flag.reviewed_by, flag.note) == ("confirmed", "finance", "核实中")
    assert "暂无待复核" in finance.get("/points/budget").text

    admin = portal.sign_in("admin.ch001", "person/admin.ch001")
    assert admin.get("/points/budget").status_code == 403
    with session_scope(db_url) as session:
        actions = session.execute(select(Refusal.action)).scalars().all()
    assert "points.budget" in actions


def test_a_member_reads_their_ledger_with_the_balance_after_each_line(portal, db_url):
    (no, phone), *_ = members_of(db_url, "C-CH001")
    _seed(portal, db_url, no)
    portal.app.state.portal.deliver()
    client = sign_in_member(portal, phone)
    assert '<a href="/me/points">' in client.get("/me").text
    page = client.get("/me/points")
    assert page.status_code == 200
    assert "<td>购车消费</td><td>+8000</td><td>8000</td>" in page.text
    assert "<td>积分兑换（WASH-1）</td><td>-500</td><td>7500</td>" in page.text
