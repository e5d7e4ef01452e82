"""Competitor tracking: entries from the CLI and a CSV (a bad row named, the good kept), the
operator only; the monthly report due on the last working day with its reminder and
escalation; the post-campaign report lists the entries of its month."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from typer.testing import CliRunner

from clubflow.cli import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.campaigns import CampaignPlan
from domain.models_audit import Refusal
from domain.models_quarter import CompetitorActivity, CompetitorReport
from tasks.gates.dated_steps import run_dated_step
from tasks.quarter.hooks import competitor_report_ladder

SH = ZoneInfo("Asia/Shanghai")
NOW = "2026-10-12T10:00:00+08:00"
runner = CliRunner()
ADD = ["planning", "competitor", "add", "--brand", "坦克", "--type", "冰雪试驾",
       "--region", "shenyang", "--from", "2026-10-17", "--to", "2026-10-18",
       "--features", "冰面漂移", "--assessment", "声量大，转化弱"]  # fmt: skip


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=SH)


def test_the_operator_adds_and_imports_entries_and_others_are_refused(
    db_url, world, channels, tmp_path
):
    added = runner.invoke(app, [*ADD, "--as", "agency.lead", "--now", NOW])
    assert added.exit_code == 0, added.output
    assert "坦克 冰雪试驾 shenyang 2026-10-17: recorded" in added.output
    again = runner.invoke(app, [*ADD, "--as", "agency.lead", "--now", NOW])
    assert "already recorded" in again.output
    refused = runner.invoke(app, [*ADD, "--as", "admin.ch001", "--now", NOW])
    assert refused.exit_code == 2 and "add is for agency" in refused.output
    bad = runner.invoke(app, [*ADD[:4], "大众", *ADD[5:], "--as", "agency.lead", "--now", NOW])
    assert bad.exit_code == 2 and "brand: '大众' is not a tracked competitor" in bad.output

    csv = tmp_path / "competitors.csv"
    csv.write_text(
        "品牌,活动类型,特点,区域,开始,结束,评估\n"
        "方程豹,沙漠穿越,车主共创路线,lanzhou,2026-10-24,2026-10-25,执行精细\n"
        "北京越野,草原露营,,beijing,2026-10-31,2026-10-30,\n"
        "哈弗,城市集结,亲子,chengdu,2026-11-07,2026-11-07,一般\n",
        encoding="utf-8",
    )
    imported = runner.invoke(
        app, ["planning", "import-competitors", str(csv), "--as", "agency.lead", "--now", NOW]
    )
    assert imported.exit_code == 2
    lines = imported.output.strip().splitlines()
    assert lines[0] == "competitors.csv: 2 rows read, 2 new, 1 refused"
    assert (
        lines[1]
        == "error: competitors.csv: line 3: ends_on: 2026-10-30 is before starts_on 2026-10-31"
    )
    with session_scope(db_url) as session:
        rows = session.execute(
            select(CompetitorActivity.brand, CompetitorActivity.month).order_by(
                CompetitorActivity.id
            )
        ).all()
        refusals = session.execute(select(Refusal.action, Refusal.actor)).all()
    assert rows == [
        ("坦克", date(2026, 10, 1)),
        ("方程豹", date(2026, 10, 1)),
        ("哈弗", date(2026, 11, 1)),
    ]
    assert refusals == [("competitor.add", "admin.ch001")]


def test_the_report_is_due_on_the_last_working_day_reminded_escalated_and_read_by_hq(
    db_url, world, channels, tmp_path, settings_env
):
    settings_env(reports_dir=str(tmp_path))
    runner.invoke(app, [*ADD, "--as", "agency.lead", "--now", NOW])

    def ladder(day: date) -> list[str]:
        with session_scope(db_url) as session:
            runs = run_dated_step(
                session=session, step=competitor_report_ladder, now=at(day), settings=get_settings()
            )
        # (September, never submitted either, is caught up on the first sweep: not shown.)
        keys = [r.idem_key for run in runs for r in run.notifications]
        return [k for k in keys if "2026-09" not in k]

    # October 2026 ends on a Saturday: due Friday the 30th; reminded two working days before.
    assert ladder(date(2026, 10, 27)) == []
    assert ladder(date(2026, 10, 28)) == ["competitors:2026-10:report:reminder"]
    assert ladder(date(2026, 10, 30)) == []
    # One working day after the 30th is Monday 2 November: HQ hears.
    assert ladder(date(2026, 11, 2)) == ["competitors:2026-10:report:escalation"]
    assert ladder(date(2026, 11, 3)) == []

    submitted = runner.invoke(
        app,
        ["planning", "competitor", "submit", "2026-10", "--as", "agency.lead",
         "--now", "2026-11-03T09:00:00+08:00"],
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    assert "competitor report 2026-10: 1 entries (due 2026-10-30)" in submitted.output
    report = Path(tmp_path / "competitors-2026-10.md").read_text(encoding="utf-8")
    assert "# 竞品活动月报 2026-10" in report and "逾期" in report
    assert "| 坦克 | 冰雪试驾 | 冰面漂移 | 沈阳卫 | 10-17–10-18 | 声量大，转化弱 |" in report
    with session_scope(db_url) as session:
        row = session.execute(select(CompetitorReport)).scalar_one()
        assert (row.month, row.due_on, row.entries, row.submitted_by) == (
            date(2026, 10, 1), date(2026, 10, 30), 1, "agency.lead"
        )  # fmt: skip


def test_the_post_campaign_report_lists_the_competitor_entries_of_its_month(
    db_url, world, channels, settings_env, tmp_path
):
    from tasks.campaigns.report import render_report
    from tasks.campaigns.store import register_campaign

    settings_env(campaign_reports_dir=str(tmp_path))
    runner.invoke(app, [*ADD, "--as", "agency.lead", "--now", NOW])
    november = [*ADD[:6], "城市集结", *ADD[7:10], "2026-11-07", "--to", "2026-11-08"]
    assert runner.invoke(app, [*november, "--as", "agency.lead", "--now", NOW]).exit_code == 0
    plan = CampaignPlan(
        code="2026-autumn-drive",
        name="2026 秋季试驾",
        launch_date=date(2026, 10, 12),
        end_date=date(2026, 10, 25),
        regions=["shenyang"],
        budget=[{"item": "平台资源位", "amount": 100000}],
        kpis=[{"name": "线索量", "target": 500}],
        started_by="hq.manager",
    )
    settings = get_settings()
    with session_scope(db_url) as session:
        view = register_campaign(
            session=session, plan=plan, now=at(date(2026, 8, 20)), settings=settings
        )
        path = render_report(
            session=session,
            campaign_id=view.id,
            form={},
            now=at(date(2026, 11, 2)),
            settings=settings,
        )
    html = Path(path).read_text(encoding="utf-8")
    assert "竞品活动记录（2026-10）" in html
    assert (
        "<td>坦克</td><td>冰雪试驾</td><td>冰面漂移</td><td>沈阳卫</td><td>10-17–10-18</td>" in html
    )
    assert "城市集结" not in html  # November's entry belongs to November's campaigns
