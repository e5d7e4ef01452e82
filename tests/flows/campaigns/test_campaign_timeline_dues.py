"""The timeline artifact and the gates agree: every gate of one campaign is due on the day
its timeline row says (one rule, `domain.campaigns.stage_due`, computes both)."""

from __future__ import annotations

import json
from datetime import date

from campaign_steps import (
    NOW,
    SLOTS,
    campaign,
    gates,
    start,
    sweep_on,
    through_signoff,
    titles,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from domain.campaigns import STAGES
from tasks.gates.decisions import decide

CODE = "campaign:2026-mid-autumn"


def _published_timeline() -> dict[str, str]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["campaign-2026-mid-autumn-timeline"])
            )
        )
    data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    return {row["key"]: row["due"] for row in data}


def test_campaign_timeline_rows_and_gate_due_dates_agree_and_a_late_build_escalates(
    gate_runner, db_url, sink
):
    start(gate_runner)
    through_signoff(gate_runner)
    decide(CODE, "feasibility", decider="it.lead", outcome="feasible", now=NOW)
    gate_runner.run_pending()
    decide(
        CODE, "slots", decider="agency.lead", outcome="recorded", extra={"slots": SLOTS}, now=NOW
    )
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· build_test")

    # The build is overdue: IT is reminded on its due date, the campaign manager hears it two
    # working days later; each once.
    sweep_on(date(2026, 8, 17))
    assert not [t for t in titles(sink, "role/it") if t.startswith("待您决定")]
    sweep_on(date(2026, 8, 18))
    sweep_on(date(2026, 8, 19))
    assert [t for t in titles(sink, "role/it") if t.startswith("待您决定")] == [
        "待您决定：2026 中秋国庆 · 页面搭建与功能测试（2026-08-18 到期）"
    ]
    assert not [t for t in titles(sink, "person/hq.manager") if t.startswith("逾期升级")]
    sweep_on(date(2026, 8, 20))
    sweep_on(date(2026, 8, 21))
    assert [t for t in titles(sink, "person/hq.manager") if t.startswith("逾期升级")] == [
        "逾期升级：2026 中秋国庆 · 页面搭建与功能测试 已逾期 2 个工作日"
    ]
    decide(CODE, "build_test", decider="it.lead", outcome="confirmed", now=NOW)
    gate_runner.run_pending()
    decide(CODE, "golive", decider="agency.lead", outcome="confirmed", now=NOW)
    gate_runner.run_pending()

    rows = _published_timeline()
    view = campaign(db_url)
    opened = gates(db_url)
    assert [g.key for g in opened] == [
        "plan_review", "signoff", "feasibility", "slots", "build_test", "golive", "kpi_actuals",
    ]  # fmt: skip
    for gate in opened:
        row = STAGES[gate.key].milestone
        assert gate.due_on.isoformat() == rows[row], (gate.key, row)
        assert gate.due_on == view.milestone(row).due_on, gate.key
    assert rows["plan_review"] == "2026-08-06"  # 3 working days after the start, not L-45…L-30
    assert rows["feasibility"] == "2026-08-05"  # 2 working days after the sign-off was given
