"""A campaign from build to live: the training notice and attendance, live KPI snapshots
from a CSV (a bad row named, the good rows kept) and the agency's API (twice: stored once),
the behind-pace warning sent once per KPI and day, the live page, and the trend in the
post-campaign report."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from campaign_steps import deliver, sweep_on
from sqlalchemy import select
from support_leads import FakeApi, serve_fake_api
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain import calendar
from domain.campaigns import CampaignPlan, CampaignStatus
from domain.models_audit import Refusal
from domain.models_campaigns import CampaignKpiSnapshot, CampaignTrainingAttendance
from flows.campaigns.live_report import campaign_live_report
from tasks.campaigns.report import render_report
from tasks.campaigns.store import register_campaign, set_status

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=SHANGHAI)
LAUNCH, END = date(2026, 9, 21), date(2026, 9, 30)  # ten days
CODE = "2026-mid-autumn"
cli = CliRunner()


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def live_campaign(db_url, world, channels):
    """A campaign past its build gates (ready): training at L-2, live from L."""
    plan = CampaignPlan(
        code=CODE,
        name="2026 中秋国庆",
        launch_date=LAUNCH,
        end_date=END,
        regions=["chengdu"],
        policy="到店试驾送 500 积分",
        budget=[{"item": "平台资源位", "amount": 300000}],
        kpis=[{"name": "线索量", "target": 2000, "unit": "条"}, {"name": "订单", "target": 100}],
        handbook_url="https://example.invalid/handbook.pdf",
        training_at=datetime(2026, 9, 18, 14, 0, tzinfo=SHANGHAI),
        training_join="腾讯会议 123-456-789",
        started_by="hq.manager",
    )
    settings = get_settings()
    with session_scope(db_url) as session:
        view = register_campaign(session=session, plan=plan, now=NOW, settings=settings)
        for status in (CampaignStatus.signed, CampaignStatus.ready):
            set_status(session=session, campaign_id=view.id, status=status)
    return view


def test_campaign_live_training_notice_names_time_and_way_to_join_and_attendance_is_recorded(
    live_campaign, db_url, sink
):
    sweep_on(calendar.add_working_days(LAUNCH, -2))
    for dealer in ("dealer/CH001", "dealer/CH002"):
        [notice] = sink.to(dealer)
        assert notice.title == "经销商培训：2026 中秋国庆（2026-09-21 上线）"
        assert "培训时间：2026-09-18 14:00" in notice.body
        assert "参加方式：腾讯会议 123-456-789" in notice.body
        assert "经销商手册：https://example.invalid/handbook.pdf" in notice.body
        assert "/go/" in notice.body  # the portal link
    sweep_on(calendar.add_working_days(LAUNCH, -2))
    assert len(sink.to("dealer/CH001")) == 1  # once per campaign and dealer

    now = "2026-09-18T16:00:00+08:00"
    base = ["campaign", "attendance", CODE, "--now", now]
    result = cli.invoke(app, [*base, "--dealer", "CH001", "--as", "hq.manager"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, [*base, "--dealer", "CH002", "--absent", "--as", "hq.manager"])
    assert "1 dealer(s) absent" in result.output
    refused = cli.invoke(app, [*base, "--dealer", "CH001", "--as", "agency.lead"])
    assert refused.exit_code == 2 and "attendance refused" in refused.output
    unknown = cli.invoke(app, [*base, "--dealer", "BE001", "--as", "hq.manager"])
    assert unknown.exit_code == 2 and "BE001 not a dealer of 2026-mid-autumn" in unknown.output
    with session_scope(db_url) as session:
        rows = session.execute(
            select(
                CampaignTrainingAttendance.dealer_code, CampaignTrainingAttendance.attended
            ).order_by(CampaignTrainingAttendance.dealer_code)
        ).all()
        refusals = session.execute(select(Refusal.action)).scalars().all()
    assert rows == [("CH001", True), ("CH002", False)]
    assert "campaign.attendance" in refusals


def test_campaign_live_kpi_csv_keeps_the_good_rows_and_names_the_bad_one(
    live_campaign, db_url, tmp_path
):
    csv = tmp_path / "kpis.csv"
    csv.write_text(
        "campaign,kpi,date,value,period\n"
        f"{CODE},线索量,2026-09-21,150,daily\n"
        f"{CODE},线索量,2026-09-22,abc,daily\n"
        f"{CODE},订单,2026-09-22,9,daily\n"
        f"{CODE},GMV,2026-09-22,1,daily\n",
        encoding="utf-8",
    )
    args = ["campaign", "import-kpis", str(csv), "--as", "agency.lead"]
    result = cli.invoke(app, [*args, "--now", "2026-09-22T20:00:00+08:00"])
    assert result.exit_code == 2
    assert "2 snapshots stored, 0 already there" in result.output
    assert "line 3: value: 'abc' is not a number" in result.output
    assert "line 5: kpi: 'GMV' is no KPI of 2026-mid-autumn" in result.output
    assert "Traceback" not in result.output
    again = cli.invoke(app, [*args, "--now", "2026-09-22T21:00:00+08:00"])
    assert "0 snapshots stored, 2 already there" in again.output
    with session_scope(db_url) as session:
        stored = session.execute(
            select(
                CampaignKpiSnapshot.kpi, CampaignKpiSnapshot.day, CampaignKpiSnapshot.value
            ).order_by(CampaignKpiSnapshot.id)
        ).all()
    assert stored == [("线索量", date(2026, 9, 21), 150.0), ("订单", date(2026, 9, 22), 9.0)]


def _feed(token: str) -> FakeApi:
    # Cumulative figures: 线索量 on pace (target 2000 over 10 days), 订单 far behind.
    return FakeApi(
        token=token,
        collections={
            f"campaigns/{CODE}/kpis": [
                {"id": 1, "kpi": "线索量", "date": "2026-09-21", "value": 210},
                {"id": 2, "kpi": "线索量", "date": "2026-09-22", "value": 420},
                {"id": 3, "kpi": "订单", "date": "2026-09-21", "value": 2},
                {"id": 4, "kpi": "订单", "date": "2026-09-22", "value": 5},
                {"id": 5, "kpi": "线索量", "date": "2026-09-23", "value": 600},
                {"id": 6, "kpi": "订单", "date": "2026-09-23", "value": 9},
            ]
        },
    )


def test_campaign_live_feed_read_twice_stores_once_and_warns_once_per_kpi_and_day(
    live_campaign, db_url, sink, reports_dir
):
    with serve_fake_api(_feed("agency-token")) as api:
        api.block().save(get_settings().campaign_kpi_source_block, overwrite=True)
        sweep_on(LAUNCH)  # the campaign goes live
        day2 = at(date(2026, 9, 22), 9)
        assert campaign_live_report(now=day2) == {CODE: 1}
        assert campaign_live_report(now=day2) == {CODE: 1}  # the same day again
        deliver(at(date(2026, 9, 22), 11))
        with session_scope(db_url) as session:
            rows = session.execute(select(CampaignKpiSnapshot)).scalars().all()
        assert len(rows) == 6 and {r.source for r in rows} == {"api:agency-kpis"}
        warnings = [m for m in sink.to("person/hq.manager") if "落后" in m.title]
        assert [m.title for m in warnings] == ["KPI 落后进度：2026 中秋国庆 · 订单（2026-09-22）"]
        assert "实际 5，按进度应达 20" in warnings[0].body
        assert "/go/" in warnings[0].body
        campaign_live_report(now=at(date(2026, 9, 23), 9))  # the next day: warned again
        deliver(at(date(2026, 9, 23), 11))
    titles = [m.title for m in sink.to("person/hq.manager") if "落后" in m.title]
    assert titles[-1] == "KPI 落后进度：2026 中秋国庆 · 订单（2026-09-23）"
    assert len(titles) == 2

    with session_scope(db_url) as session:
        path = render_report(
            session=session,
            campaign_id=live_campaign.id,
            form={"decider": "agency.lead"},
            now=at(date(2026, 10, 1)),
            settings=get_settings(),
        )
    html = Path(path).read_text(encoding="utf-8")
    assert '<h3>线索量 <span class="spark">▁▅█</span></h3>' in html
    assert '<tr><td>2026-09-22</td><td class="num">420</td></tr>' in html
    assert "出勤 0 / 2 家" in html  # none recorded yet
    assert "未记录" in html
