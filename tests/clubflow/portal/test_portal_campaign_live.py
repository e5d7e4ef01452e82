"""The live page of a running campaign: KPIs against the share of their targets due by
today, behind pace flagged, with the trend; for HQ, the agency and the campaign's regional
specialist, refused (and recorded) for another region's specialist and for dealers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import business_date
from domain.campaigns import CampaignPlan
from domain.models_audit import Refusal
from tasks.campaigns.live import store_snapshots
from tasks.campaigns.store import register_campaign


def _running_campaign(portal, db_url) -> str:
    today = business_date(portal.clock())
    launch = today - timedelta(days=1)  # day 2 of 10 today
    plan = CampaignPlan(
        code="2026-winter",
        name="2026 冬季试驾季",
        launch_date=launch,
        end_date=launch + timedelta(days=9),
        regions=["chengdu"],
        budget=[{"item": "平台资源位", "amount": 100000}],
        kpis=[{"name": "线索量", "target": 1000, "unit": "条"}, {"name": "订单", "target": 50}],
        started_by="hq.manager",
    )
    with session_scope(db_url) as session:
        register_campaign(
            session=session, plan=plan, now=portal.clock() - timedelta(days=60),
            settings=get_settings(),
        )  # fmt: skip
        rows = [
            {"campaign": plan.code, "kpi": "线索量", "day": launch, "value": 100},
            {"campaign": plan.code, "kpi": "线索量", "day": today, "value": 230},
            {"campaign": plan.code, "kpi": "订单", "day": today, "value": 3},
        ]
        store_snapshots(session=session, rows=rows, source="csv:test", now=portal.clock())
    return plan.code


def test_campaign_live_page_shows_kpis_against_pace_to_those_who_run_the_campaign(
    portal, db_url, world
):
    code = _running_campaign(portal, db_url)
    for who in ("hq.manager", "agency.lead", "specialist.chengdu"):
        client = portal.sign_in(who, f"person/{who}")
        page = client.get(f"/campaigns/{code}/live")
        assert page.status_code == 200, who
        assert "实时数据：2026 冬季试驾季" in page.text
        assert "已进行 20%" in page.text
        # 线索量 230 of the 200 due by now: on pace; 订单 3 of 10: behind.
        assert "<td>线索量</td>" in page.text and "▁█" in page.text
        assert "⚠ 落后进度：订单" in page.text
    for who in ("specialist.beijing", "dealer.ch001"):
        with session_scope(db_url) as session:
            before = session.execute(select(func.count()).select_from(Refusal)).scalar_one()
        client = portal.sign_in(who, f"person/{who}")
        page = client.get(f"/campaigns/{code}/live")
        assert page.status_code == 403, who
        with session_scope(db_url) as session:
            after = session.execute(select(func.count()).select_from(Refusal)).scalar_one()
        assert after == before + 1
