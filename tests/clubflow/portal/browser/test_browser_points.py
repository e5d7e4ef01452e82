"""The points budget page in Chromium: finance reads the month and clears an anomaly flag."""

from __future__ import annotations

from datetime import timedelta

from browser_support import browser_sign_in
from sqlalchemy import select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import business_date
from domain.models import Member
from domain.models_points import PointsAnomaly
from tasks.members import grant_points, recompute_members
from tasks.members.points_budget import flag_anomalies


def test_finance_clears_an_anomaly_flag_in_the_browser(db_url, portal, desktop, served):
    now = portal.clock()
    settings = get_settings()
    with session_scope(db_url) as session:
        mid = session.execute(select(Member.id).where(Member.member_no == "M000001")).scalar_one()
        grant_points(
            session=session,
            settings=settings,
            rows=[
                {
                    "member_id": mid,
                    "amount": 9000,
                    "reason": "spend:purchase",
                    "idem_key": "txn:B-1",
                    "occurred_at": now - timedelta(hours=1),
                }
            ],
        )
        recompute_members(session=session, member_ids=[mid], now=now, settings=settings)
        flag_anomalies(session=session, day=business_date(now), now=now, settings=settings)

    browser_sign_in(
        desktop,
        served.base_url,
        served.sink,
        "finance",
        "person/finance",
        next_path="/points/budget",
    )
    assert "9000 分（90.00 元）" in desktop.locator(".budget").inner_text()
    row = desktop.locator("table.anomalies tr", has_text="M000001")
    row.locator("select[name=outcome]").select_option("cleared")
    row.locator("input[name=note]").fill("团购订单，已核实")
    row.get_by_role("button", name="提交").click()
    desktop.wait_for_url("**/points/budget")
    assert "暂无待复核" in desktop.locator("table.anomalies").inner_text()
    with session_scope(db_url) as session:
        flag = session.execute(select(PointsAnomaly)).scalar_one()
    assert (flag.status, flag.reviewed_by, flag.note) == ("cleared", "finance", "团购订单，已核实")
