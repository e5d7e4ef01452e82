"""Who may decide, lead time and rush, sign-off bound to the plan, moving L, overdue gates."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from campaign_steps import (
    NOW,
    at,
    campaign,
    campaign_messages,
    decisions,
    deliver,
    gates,
    plan,
    start,
    sweep_on,
    through_build,
    through_signoff,
    titles,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from clubflow.campaigns import amend_campaign, reschedule_campaign, start_campaign
from clubflow.core.db import session_scope
from domain.campaigns import PlanError
from domain.models import Campaign
from tasks.gates.decisions import DecisionRefused, decide

CODE = "campaign:2026-mid-autumn"


def test_a_decider_not_allowed_is_refused_and_recorded_and_the_gate_still_waits(
    gate_runner, db_url
):
    start(gate_runner)
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    gate_runner.run_pending()

    with pytest.raises(DecisionRefused, match="'agency.lead' is agency, this gate needs"):
        decide(CODE, "signoff", decider="agency.lead", outcome="approve", now=NOW)
    with pytest.raises(DecisionRefused, match="unknown user 'nobody'"):
        decide(CODE, "signoff", decider="nobody", outcome="approve", now=NOW)
    assert gate_runner.run_pending() == []
    [signoff] = [g for g in gates(db_url) if g.key == "signoff"]
    assert signoff.status == "open"

    decide(CODE, "signoff", decider="hq.manager2", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· feasibility")
    assert [(d.decider, d.accepted, bool(d.refusal_reason)) for d in decisions(db_url)] == [
        ("hq.manager", True, False),
        ("agency.lead", False, True),
        ("nobody", False, True),
        ("hq.manager2", True, False),
    ]


def test_44_days_of_lead_time_is_refused_and_nothing_is_stored(gate_runner, db_url):
    short = plan(
        launch_date=(NOW.date() + timedelta(days=44)).isoformat(),
        end_date=(NOW.date() + timedelta(days=50)).isoformat(),
    )
    from domain.campaigns import CampaignPlan

    with pytest.raises(PlanError, match="launch_date: .* is 44 days away; campaigns need 45"):
        start_campaign(CampaignPlan.model_validate(short), now=NOW)
    # The run refuses it too (e.g. started from the UI's form), and stores nothing.
    [run] = start(gate_runner, short)
    assert run.state.is_failed()
    with session_scope(db_url) as session:
        assert session.execute(select(Campaign)).first() is None


def test_44_days_with_a_rush_reason_is_accepted_and_flagged_on_every_artifact(gate_runner, db_url):
    rushed = plan(
        launch_date=(NOW.date() + timedelta(days=44)).isoformat(),
        end_date=(NOW.date() + timedelta(days=50)).isoformat(),
        rush_reason="竞品提前发布，总部批准加急",
    )
    [run] = start(gate_runner, rushed)
    assert run.state.name == "Suspended"
    assert campaign(db_url).rush_reason == "竞品提前发布，总部批准加急"
    with get_client(sync_client=True) as client:
        # This run's own (the test server holds every test's, more than one page of them).
        mine = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
    assert {a.key for a in mine} >= {"campaign-2026-mid-autumn-timeline", "campaign-1-gate"}
    for artifact in mine:
        text = str(artifact.data) + str(artifact.description)
        assert "RUSH" in text, artifact.key
        assert "竞品提前发布" in text, artifact.key


# Every rule is table-tested in tests/domain/test_campaigns.py; here, the store's part.
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"regions": ["atlantis"]}, r"regions\[0\]: unknown region 'atlantis'"),
        (
            {"budget": [{"item": "礼品", "amount": -5}]},
            r"budget\[0\].amount: -5.0 must be positive",
        ),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(db_url, world, change, message):
    from domain.campaigns import CampaignPlan

    with pytest.raises(PlanError, match=message):
        start_campaign(CampaignPlan.model_validate(plan(**change)), now=NOW)


def test_a_budget_change_after_signoff_voids_it_and_signoff_opens_again(gate_runner, db_url, sink):
    start(gate_runner)
    through_signoff(gate_runner)
    signed_hash = campaign(db_url).plan_hash

    budget = plan()["budget"] + [{"item": "直播", "amount": 50000}]
    view, voided = amend_campaign(
        "2026-mid-autumn", {"budget": budget, "note": "加直播"}, by="hq.manager", now=NOW
    )
    assert voided == 2  # the sign-off and the feasibility check waiting after it
    assert view.plan_hash != signed_hash
    [run] = gate_runner.run_pending()  # the woken run asks for sign-off again
    assert run.name.endswith("· signoff")
    by_key = {(g.key, g.round): g.status for g in gates(db_url)}
    assert by_key == {
        ("plan_review", 1): "decided",
        ("signoff", 1): "void",
        ("feasibility", 1): "void",
        ("signoff", 2): "open",
    }
    deliver(NOW)
    assert titles(sink, "role/campaign_manager")[-2:] == [
        "签字作废，请重签：2026 中秋国庆",
        "待签字确认：2026 中秋国庆（2026-08-21 前）",
    ]
    assert "预算合计 ¥430,000.00" in sink.to("role/campaign_manager")[-2].body

    decide(CODE, "signoff", decider="hq.manager", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· feasibility")
    [second] = [d for d in decisions(db_url) if d.accepted and d.plan_hash == view.plan_hash]
    assert second.plan_version == 2 and second.signature

    # The same plan handed in again changes nothing.
    _, voided = amend_campaign("2026-mid-autumn", {"budget": budget}, by="hq.manager", now=NOW)
    assert voided == 0


def test_moving_l_rederives_the_milestones_and_tells_everyone_affected(gate_runner, db_url, sink):
    start(gate_runner)
    before = campaign(db_url)
    new_launch = date(2026, 10, 12)  # after the National Day holidays
    after = reschedule_campaign("2026-mid-autumn", new_launch, by="hq.manager", now=NOW)
    assert (after.launch_date, after.end_date) == (new_launch, date(2026, 10, 18))
    moved = {m.key: m.due_on for m in after.milestones}
    training = after.milestone("training")
    # L-2 … L-1 working days; Saturday Oct 10 is a make-up working day (调休).
    assert (training.starts_on, training.due_on) == (date(2026, 10, 9), date(2026, 10, 10))
    # Every date moves but the first review round's: 3 working days from the start, as its gate.
    assert [m.key for m in before.milestones if moved[m.key] == m.due_on] == ["plan_review"]
    assert moved["plan_review"] == date(2026, 8, 6)
    assert moved["signoff"] == date(2026, 9, 11)  # L-30 = Sep 12, a Saturday
    [review] = gates(db_url)
    assert review.due_on == date(2026, 8, 6)  # a review round stays due in 3 working days
    [run] = gate_runner.run_pending()  # the woken run shows the new timeline, still waiting
    assert run.state.name == "Suspended" and run.name.endswith("· plan_review")
    with get_client(sync_client=True) as client:
        timeline = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=["campaign-2026-mid-autumn-timeline"])
            )
        )
    [artifact] = timeline
    assert {"key": "launch", "from": "2026-10-12", "due": "2026-10-18"}.items() <= next(
        row for row in json.loads(artifact.data) if row["key"] == "launch"
    ).items()
    deliver(NOW)
    for path in ("role/agency", "role/it", "person/hq.manager"):
        [message] = sink.to(path)
        assert message.title == "上线日变更：2026 中秋国庆 改为 2026-10-12"
        assert "由 2026-09-21 改为 2026-10-12" in message.body

    with pytest.raises(PlanError, match="is 9 days away"):
        reschedule_campaign(
            "2026-mid-autumn", NOW.date() + timedelta(days=9), by="hq.manager", now=NOW
        )


def test_an_overdue_gate_reminds_once_and_escalates_once_two_working_days_later(
    gate_runner, db_url, sink
):
    start(gate_runner)
    [review] = gates(db_url)
    assert review.due_on == date(2026, 8, 6)  # Thursday
    deliver(NOW)
    sink.clear()

    sweep_on(date(2026, 8, 5))
    assert campaign_messages(sink.messages) == []
    sweep_on(date(2026, 8, 6))
    sweep_on(date(2026, 8, 7))
    [reminder] = campaign_messages(sink.to("role/campaign_manager"))
    assert reminder.title == "待您决定：2026 中秋国庆 · 方案评审（2026-08-06 到期）"
    assert "clubflow decide campaign:2026-mid-autumn plan_review" in reminder.body
    assert sink.to("person/hq.manager") == []

    sweep_on(date(2026, 8, 10))  # Monday: 2 working days after Thursday
    sweep_on(date(2026, 8, 10))
    sweep_on(date(2026, 8, 12))
    [escalation] = sink.to("person/hq.manager")
    assert escalation.title == "逾期升级：2026 中秋国庆 · 方案评审 已逾期 2 个工作日"
    assert len(campaign_messages(sink.messages)) == 2

    # Deciding closes the ladder: nothing more for this gate.
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=at(date(2026, 8, 12)))
    gate_runner.run_pending()
    sweep_on(date(2026, 8, 13))
    assert len(sink.to("person/hq.manager")) == 1


def test_not_feasible_goes_back_to_the_agency_and_through_review_and_sign_off_again(
    gate_runner, db_url, sink
):
    from clubflow.campaigns import revise_plan

    start(gate_runner)
    through_signoff(gate_runner)
    decide(
        CODE,
        "feasibility",
        decider="it.lead",
        outcome="not-feasible",
        comment="小程序无单点登录",
        now=NOW,
    )
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· plan_revision")
    deliver(NOW)
    [revision] = sink.to("role/agency")
    assert "在「IT 可行性评估」被 it.lead 退回修改" in revision.body
    assert "意见：小程序无单点登录" in revision.body

    revise_plan("2026-mid-autumn", {**plan(), "summary": "改用 H5 页面"}, by="agency.lead", now=NOW)
    gate_runner.run_pending()
    decide(CODE, "plan_review", decider="hq.manager", outcome="approve", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· signoff")  # version 2 needs its own sign-off
    decide(CODE, "signoff", decider="hq.manager", outcome="approve", now=NOW)
    gate_runner.run_pending()
    decide(CODE, "feasibility", decider="it.lead", outcome="feasible", now=NOW)
    [run] = gate_runner.run_pending()
    assert run.name.endswith("· slots")
    through_build(gate_runner)
    run = gate_runner.read(run.id)
    assert run.name.endswith("· kpi_actuals")
    # A KPI the plan does not have, sent through the Resume form, is refused and recorded.
    resume_flow_run(
        run.id,
        run_input={
            "decider": "agency.lead",
            "actuals": [{"name": "GMV", "actual": 1}],
            "spend_total": 1,
        },
    )
    [run] = gate_runner.run_pending()
    assert run.state.name == "Suspended"
    refused = decisions(db_url)[-1]
    assert (refused.accepted, refused.refusal_reason) == (False, "not KPIs of the plan: GMV")
    assert [(g.key, g.round, g.outcome) for g in gates(db_url)] == [
        ("plan_review", 1, "approve"),
        ("signoff", 1, "approve"),
        ("feasibility", 1, "not_feasible"),
        ("plan_revision", 1, "submit"),
        ("plan_review", 2, "approve"),
        ("signoff", 2, "approve"),
        ("feasibility", 2, "feasible"),
        ("slots", 1, "recorded"),
        ("build_test", 1, "confirmed"),
        ("golive", 1, "confirmed"),
        ("kpi_actuals", 1, None),
    ]
    assert campaign(db_url).summary == "改用 H5 页面"


def test_a_rejected_plan_ends_the_campaign_and_both_sides_hear_why(gate_runner, db_url, sink):
    start(gate_runner)
    decide(
        CODE, "plan_review", decider="hq.manager", outcome="reject", comment="与双十一冲突", now=NOW
    )
    [run] = gate_runner.run_pending()
    assert run.state.is_completed() and run.name.endswith("· rejected")
    assert campaign(db_url).status == "rejected"
    deliver(NOW)
    for path in ("role/agency", "person/hq.manager"):
        [message] = sink.to(path)
        assert message.title == "活动已否决：2026 中秋国庆"
        assert "理由：与双十一冲突" in message.body
