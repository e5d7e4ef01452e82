"""One campaign on the running stack, as its people drive it: `clubflow campaign start`, the
gates decided with `clubflow decide`, the hourly sweep (the gate-sweep deployment, run at a
chosen `now` per simulated day), the KPI figures with `clubflow campaign kpi`, the report."""

from __future__ import annotations

import json

from sqlalchemy import select
from system_support import portal_browser

from clubflow.core.db import session_scope
from domain.models import Campaign

CODE = "2026-mid-autumn"
NAME = "2026 中秋国庆"
NOW = "2026-08-03T10:00:00+08:00"  # a Monday, 49 days before launch
PLAN = {
    "code": CODE,
    "name": NAME,
    "kind": "ecommerce_festival",
    "launch_date": "2026-09-21",
    "end_date": "2026-09-27",
    "regions": ["chengdu"],
    "summary": "天猫、京东双平台，试驾预约送积分",
    "policy": "到店试驾送 500 积分，订车送全年保养",
    "budget": [
        {"item": "平台资源位", "amount": 300000},
        {"item": "试驾礼品", "amount": 80000},
    ],
    "kpis": [
        {"name": "线索量", "target": 2000, "unit": "条"},
        {"name": "订单", "target": 150, "unit": "台"},
    ],
    "handbook_url": "https://example.invalid/handbook.pdf",
    "started_by": "hq.manager",
}


def _titles(stack, path: str) -> list[str]:
    return [m["title"] for m in stack.messages_to(path) if NAME in m["title"]]


def _status(stack) -> str:
    with session_scope(stack.database_url) as session:
        return session.execute(select(Campaign.status).where(Campaign.code == CODE)).scalar_one()


def _decide(stack, run, gate: str, outcome: str, user: str):
    done = stack.cli("decide", f"campaign:{CODE}", gate, outcome, "--as", user, "--now", NOW)
    assert done.returncode == 0, done.stdout + done.stderr
    return stack.wait_resumed(run.id, run.state.id)


def _day(stack, day: str) -> None:
    """A simulated day: the hourly sweep at 10:00, then the outbox at 11:00."""
    run = stack.run("gate-sweep", {"now": f"{day}T10:00:00+08:00"})
    assert run.state_name == "Completed", run.state
    stack.deliver(f"{day}T11:00:00+08:00")


def test_a_campaign_from_its_plan_through_its_gates_to_its_report(stack):
    plan = stack.home / "plan.yaml"
    plan.write_text(json.dumps(PLAN, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    known = {r.id for r in stack.runs_of("campaign-pipeline")}
    started = stack.cli("campaign", "start", str(plan), "--now", NOW)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "it waits at plan review" in started.stdout
    run = stack.wait_for_run_of("campaign-pipeline", known)
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · plan_review")

    # A decider who may not decide is refused, and the run keeps waiting.
    refused = stack.cli(
        "decide", f"campaign:{CODE}", "plan_review", "approve", "--as", "it.lead", "--now", NOW
    )
    assert refused.returncode == 1 and "refused" in refused.stdout, refused.stdout

    run = _decide(stack, run, "plan_review", "approve", "hq.manager")
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · signoff")
    run = _decide(stack, run, "signoff", "approve", "hq.manager2")
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · feasibility")
    run = _decide(stack, run, "feasibility", "feasible", "it.lead")
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · slots")
    assert _status(stack) == "ready"
    slots = stack.home / "slots.csv"
    slots.write_text(
        "name,kind,key_date,applied,granted,granted_qty,cost\n"
        "天猫首页焦点图,paid,2026-09-01,yes,yes,2,50000\n",
        encoding="utf-8",
    )
    recorded = stack.cli("campaign", "slots", CODE, str(slots), "--as", "agency.lead", "--now", NOW)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    run = stack.wait_resumed(run.id, run.state.id)
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · build_test")
    run = _decide(stack, run, "build_test", "confirmed", "it.lead")
    run = _decide(stack, run, "golive", "confirmed", "agency.lead")
    assert (run.state_name, run.name) == ("Suspended", f"campaign {NAME} · kpi_actuals")
    stack.deliver(NOW)
    # Each once; the outbox sends a batch in no promised order.
    assert sorted(_titles(stack, "role/campaign_manager")) == sorted(
        [f"方案评审：{NAME}（第 1 轮，2026-08-06 前）", f"待签字确认：{NAME}（2026-08-21 前）"]
    )
    assert sorted(_titles(stack, "role/it")) == sorted(
        [
            f"IT 可行性评估：{NAME}（2026-08-05 前）",
            f"可开工：{NAME}（页面 2026-09-17 上线）",
            f"页面搭建与功能测试：{NAME}（2026-08-18 前）",
        ]
    )

    # Dated steps: dealer training two working days before launch, the launch, the KPI request.
    # Sunday 2026-09-20 is a make-up working day (调休), so L-2 is Friday 2026-09-18.
    _day(stack, "2026-09-17")
    assert _titles(stack, "dealer/CH001") == []
    _day(stack, "2026-09-18")
    [training] = [m for m in stack.messages_to("dealer/CH001") if NAME in m["title"]]
    assert training["title"] == f"经销商培训：{NAME}（2026-09-21 上线）"
    assert "活动政策：到店试驾送 500 积分" in training["body"]
    assert _titles(stack, "dealer/BE001") == []  # not a region of the campaign
    _day(stack, "2026-09-21")
    assert _titles(stack, "dealer/CH001")[-1] == f"今日上线：{NAME}"
    assert _status(stack) == "live"

    # Live: the agency's daily figures to date, the morning report against the targets. On
    # day 3 of 7, 10 orders are behind pace (150 × 3/7 × 0.9); 1,200 leads are not.
    snapshots = stack.home / "live.csv"
    snapshots.write_text(
        "campaign,kpi,date,value\n"
        f"{CODE},线索量,2026-09-22,700\n{CODE},订单,2026-09-22,4\n"
        f"{CODE},线索量,2026-09-23,1200\n{CODE},订单,2026-09-23,10\n",
        encoding="utf-8",
    )
    for _ in range(2):  # the same file twice: stored once
        imported = stack.cli(
            "campaign", "import-kpis", str(snapshots), "--as", "agency.lead",
            "--now", "2026-09-23T09:00:00+08:00",
        )  # fmt: skip
        assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "0 snapshots stored, 4 already there" in imported.stdout
    for _ in range(2):  # a re-run of the morning report warns no one twice
        live = stack.run("campaign-live-report", {"now": "2026-09-23T09:30:00+08:00"})
        assert live.state_name == "Completed", live.state
    stack.deliver("2026-09-23T10:00:00+08:00")
    behind = [m for m in stack.inbox() if m["title"].startswith(f"KPI 落后进度：{NAME}")]
    assert [m["title"] for m in behind] == [f"KPI 落后进度：{NAME} · 订单（2026-09-23）"]
    assert "实际 10台" in behind[0]["body"] and "查看实时数据：http" in behind[0]["body"]
    browser = portal_browser(stack, "hq.manager")
    try:
        page = browser.get(f"/campaigns/{CODE}/live")
    finally:
        browser.close()
    # The page reads the portal's own clock (after the end: the whole target is due by now).
    assert page.status_code == 200 and '<tr class="overdue"><td>订单</td>' in page.text
    assert "<td>线索量</td>" in page.text and "1,200" in page.text
    _day(stack, "2026-09-28")
    assert _titles(stack, "role/agency")[-1] == f"请提交实际数据：{NAME}（报告 2026-10-04 前）"

    kpis = stack.home / "kpi.csv"
    kpis.write_text("kpi,actual\n线索量,2300\n订单,120\n", encoding="utf-8")
    handed_in = stack.cli(
        "campaign", "kpi", CODE, str(kpis), "--as", "agency.lead", "--spend", "365000",
        "--competitors", "竞品 A 同期降价 1 万", "--next-steps", "加大京东投放",
        "--now", "2026-09-28T15:00:00+08:00",
    )  # fmt: skip
    assert handed_in.returncode == 0, handed_in.stdout + handed_in.stderr
    run = stack.wait_resumed(run.id, run.state.id)
    assert (run.state_name, run.name) == ("Completed", f"campaign {NAME} · report")
    stack.deliver("2026-09-29T10:00:00+08:00")

    html = (stack.data / "reports" / f"campaign-{CODE}.html").read_text(encoding="utf-8")
    assert '<td>线索量</td><td class="num">2,000 条</td><td class="num">2,300</td>' in html
    assert "竞品 A 同期降价 1 万" in html
    assert _titles(stack, "person/hq.manager") == [
        f"KPI 落后进度：{NAME} · 订单（2026-09-23）",  # the manager who started it hears too
        f"活动分析报告：{NAME}",
    ]
    assert _status(stack) == "reported"
    # Each message once, whatever ran twice.
    seen = [(m["path"], m["title"], m["body"]) for m in stack.inbox() if NAME in m["title"]]
    assert len(seen) == len(set(seen))
