"""The commands a campaign manager, the agency and IT type."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from campaign_steps import NOW, start
from typer.testing import CliRunner

from clubflow.campaigns import parse_kpi_csv
from clubflow.cli import app
from domain import calendar

cli = CliRunner()


def write_plan(tmp_path, days_ahead: int, **extra) -> str:
    today = calendar.business_date(NOW)
    data = {
        "code": "cli-campaign",
        "name": "CLI 积分节",
        "kind": "points_festival",
        "launch_date": (today + timedelta(days=days_ahead)).isoformat(),
        "end_date": (today + timedelta(days=days_ahead + 6)).isoformat(),
        "regions": ["beijing", "chengdu"],
        "budget": [{"item": "积分", "amount": 50000}],
        "kpis": [{"name": "新增会员", "target": 500}],
        "started_by": "hq.manager",
        **extra,
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_campaign_start_refuses_44_days_and_starts_a_run_with_its_regions_as_tags(
    gate_runner, db_url, tmp_path
):
    at_now = ["--now", NOW.isoformat()]
    result = cli.invoke(app, ["campaign", "start", write_plan(tmp_path, 44), *at_now])
    assert result.exit_code == 2
    assert "launch_date" in result.output and "44 days away" in result.output

    result = cli.invoke(app, ["campaign", "start", write_plan(tmp_path, 60), *at_now])
    assert result.exit_code == 0, result.output
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    assert {"campaign", "region:beijing", "region:chengdu"} <= set(run.tags)
    assert run.name == "campaign CLI 积分节 · plan_review"


def test_decide_refuses_the_wrong_person_and_inbox_lists_what_waits_overdue_first(
    gate_runner, db_url
):
    start(gate_runner)
    result = cli.invoke(
        app,
        ["decide", "campaign:2026-mid-autumn", "plan_review", "approve", "--as", "it.lead"]
        + ["--now", NOW.isoformat()],
    )
    assert result.exit_code == 1
    assert "refused" in result.output and "the gate still waits" in result.output

    # A time without a zone is Shanghai time: the 10th, four days after the gate's due date.
    result = cli.invoke(app, ["inbox", "--as", "hq.manager2", "--now", "2026-08-10T09:00"])
    assert result.exit_code == 0, result.output
    assert "2026-08-06" in result.output and "overdue" in result.output
    assert "plan_review" in result.output  # the command to act on it
    result = cli.invoke(app, ["inbox", "--as", "it.lead", "--today", "2026-08-10"])
    assert "Waiting on it.lead (0)" in result.output

    result = cli.invoke(
        app,
        [
            "decide",
            "2026-mid-autumn",
            "plan_review",
            "revise",
            "--as",
            "hq.manager",
            "-m",
            "KPI 太低",
            "--now",
            "2026-08-10T09:00",
        ],
    )
    assert result.exit_code == 0, result.output
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· plan_revision")


def test_kpi_csv_rows_and_their_errors_name_the_line():
    actuals, spend = parse_kpi_csv('kpi,actual\n线索量,"2,300"\nspend_total,365000\n')
    assert actuals == [{"name": "线索量", "actual": 2300.0}] and spend == 365000.0
    with pytest.raises(ValueError, match="line 3: actual 'many' is not a number"):
        parse_kpi_csv("kpi,actual\n线索量,1\n订单,many\n")
    with pytest.raises(ValueError, match="columns kpi,actual"):
        parse_kpi_csv("name,value\nx,1\n")
