from __future__ import annotations

from datetime import timedelta

from campaign_steps import (
    END,
    LAUNCH,
    NOW,
    at,
    campaign,
    campaign_messages,
    decisions,
    deliver,
    duplicates,
    gates,
    plan,
    start,
    sweep_on,
    through_build,
    titles,
)

from clubflow.campaigns import revise_plan, submit_kpis
from domain import calendar
from tasks.gates.decisions import decide

CODE = "campaign:2026-mid-autumn"


def test_a_campaign_goes_from_plan_to_report_and_everyone_hears_once(
    gate_runner, db_url, sink, reports_dir
):
    [run] = start(gate_runner)
    assert run.state.name == "Suspended"
    assert run.name == "campaign 2026 中秋国庆 · plan_review"
    assert {"campaign", "region:chengdu"} <= set(run.tags)
    view = campaign(db_url)
    assert [m.key for m in view.milestones] == [
        "assessment",
        "plan_review",
        "signoff",
        "feasibility",
        "slots",
        "build_test",
        "golive",
        "training",
        "launch",
        "kpi_request",
        "report",
    ]
    assert view.milestone("signoff").due_on.isoformat() == "2026-08-21"  # L-30 is a Saturday

    # Round 1: sent back with comments; the agency hears them and hands in version 2.
    decide(
        CODE,
        "plan_review",
        decider="hq.manager",
        outcome="revise",
        comment="预算按平台拆分",
        now=NOW,
    )
    [run] = gate_runner.run_pending()
    assert run.name == "campaign 2026 中秋国庆 · plan_revision"
    revised = plan()
    revised["budget"] = [
        {"item": "天猫资源位", "amount": 180000},
        {"item": "京东资源位", "amount": 120000},
        {"item": "试驾礼品", "amount": 80000},
    ]
    revise_plan("2026-mid-autumn", {**revised, "note": "按平台拆分"}, by="agency.lead", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name == "campaign 2026 中秋国庆 · plan_review"
    assert campaign(db_url).plan_version == 2

    # Round 2 approved; sign-off; IT says feasible.
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    gate_runner.run_pending()
    decide(CODE, "signoff", decider="hq.manager2", outcome="approve", now=NOW)
    gate_runner.run_pending()
    decide(CODE, "feasibility", decider="it.lead", outcome="feasible", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name == "campaign 2026 中秋国庆 · slots"
    assert campaign(db_url).status == "ready"
    # Slots recorded, build confirmed by IT, go-live by the agency.
    through_build(gate_runner)
    run = gate_runner.read(run.id)
    assert run.state.name == "Suspended"
    assert run.name == "campaign 2026 中秋国庆 · kpi_actuals"
    deliver(NOW)

    assert titles(sink, "role/campaign_manager") == [
        "方案评审：2026 中秋国庆（第 1 轮，2026-08-06 前）",
        "方案评审：2026 中秋国庆（第 2 轮，2026-08-06 前）",
        "待签字确认：2026 中秋国庆（2026-08-21 前）",
    ]
    [revision] = sink.to("role/agency")[:1]
    assert revision.title == "方案需修改：2026 中秋国庆（2026-08-06 前提交新版）"
    assert "意见：预算按平台拆分" in revision.body
    assert titles(sink, "role/it") == [
        "IT 可行性评估：2026 中秋国庆（2026-08-05 前）",
        "可开工：2026 中秋国庆（页面 2026-09-17 上线）",
        "页面搭建与功能测试：2026 中秋国庆（2026-08-18 前）",
    ]
    assert titles(sink, "role/agency")[-2:] == [
        "平台资源位申请：2026 中秋国庆（2026-08-10 前）",
        "上架与页面上线：2026 中秋国庆（2026-09-18 前）",
    ]
    [signoff] = [d for d in decisions(db_url) if d.outcome == "approve" and d.signature]
    assert signoff.decider == "hq.manager2"
    assert signoff.plan_hash == campaign(db_url).plan_hash

    # Dated steps through the sweep: training at L-2 working days, launch at L, KPIs at end+1.
    training_day = calendar.add_working_days(LAUNCH, -2)
    sweep_on(training_day - timedelta(days=1))
    assert sink.to("dealer/CH001") == []
    sweep_on(training_day)
    sweep_on(training_day)  # a second sweep the same day adds nothing
    for dealer in ("dealer/CH001", "dealer/CH002"):
        [training] = sink.to(dealer)
        assert training.title == "经销商培训：2026 中秋国庆（2026-09-21 上线）"
        assert "活动政策：到店试驾送 500 积分" in training.body
        assert "https://example.invalid/handbook.pdf" in training.body
    assert sink.to("dealer/BE001") == []  # not a region of the campaign
    sweep_on(LAUNCH)
    assert titles(sink, "dealer/CH001")[-1] == "今日上线：2026 中秋国庆"
    assert campaign(db_url).status == "live"
    sweep_on(END + timedelta(days=1))
    assert titles(sink, "role/agency")[-1] == "请提交实际数据：2026 中秋国庆（报告 2026-10-04 前）"

    submit_kpis(
        "2026-mid-autumn",
        [{"name": "线索量", "actual": 2300}, {"name": "订单", "actual": 120}],
        by="agency.lead",
        spend_total=365000,
        competitors="竞品 A 同期降价 1 万",
        next_steps="加大京东投放",
        now=at(END + timedelta(days=1), 15),
    )
    [run] = gate_runner.run_pending()
    assert run.state.is_completed(), run.state
    assert run.name == "campaign 2026 中秋国庆 · report"
    deliver(at(END + timedelta(days=2)))

    html = (reports_dir / "campaign-2026-mid-autumn.html").read_text(encoding="utf-8")
    assert '<td>线索量</td><td class="num">2,000 条</td><td class="num">2,300</td>' in html
    assert '<td class="num">115.0%</td><td>✓</td>' in html
    assert "80.0%" in html and "✗" in html  # 订单 120 of 150
    assert "¥365,000.00" in html and "¥380,000.00" in html
    assert "竞品 A 同期降价 1 万" in html
    [report] = campaign_messages(sink.to("person/hq.manager"))
    assert report.title == "活动分析报告：2026 中秋国庆"
    view = campaign(db_url)
    assert view.status == "reported"
    assert view.milestone("training").status == "done"

    assert duplicates(sink) == []
    # managers 3, agency 5 (revision, ready, slots, go-live, KPI request), IT 3, dealers 2 x 2,
    # report 1
    assert len(campaign_messages(sink.messages)) == 16
    assert [(d.outcome, d.accepted) for d in decisions(db_url)] == [
        ("revise", True),
        ("submit", True),
        ("approve", True),
        ("approve", True),
        ("feasible", True),
        ("recorded", True),
        ("confirmed", True),
        ("confirmed", True),
        ("submit", True),
    ]
    assert [g.status for g in gates(db_url)] == ["decided"] * 9
