"""The 45-day campaign pipeline (DOMAIN §4): plan review rounds ↔ agency revisions, sign-off
bound to the plan version, IT feasibility, then the dated steps (through the sweep) and the
post-campaign report once the actual KPI figures are in.

Runs as a deployment: each gate suspends the run, and a decision resumes it from the top.
The replay is cheap and safe: the campaign is stored once by its code, decided gates return
their decisions from the store, and notifications carry idempotency keys. The stage and the
round of each gate follow from the decisions already recorded, in order.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain import calendar
from domain.campaigns import CampaignPlan
from domain.gates import GateKind, GateSpec
from domain.models import Role
from flows.campaigns.forms import KpiActualsInput, PlanRevisionInput
from flows.gates import current_flow_run_id, wait_for_decision
from tasks.campaigns import messages
from tasks.campaigns.report import plan_markdown, publish_timeline_task, render_report_task
from tasks.campaigns.store import (
    CampaignView,
    advance_campaign_task,
    gate_due,
    load_campaign_task,
    record_kpi_actuals_task,
    register_campaign_task,
    store_plan_revision_task,
    void_stale_open_gates_task,
)
from tasks.gates.runs import label_run_task, retire_run_task
from tasks.outbox import queue_notifications_task

# Who decides each gate, its title and its kind.
GATES: dict[str, tuple[Role, str, GateKind]] = {
    "plan_review": (Role.campaign_manager, "方案评审", GateKind.approval),
    "plan_revision": (Role.agency, "方案修改", GateKind.submission),
    "signoff": (Role.campaign_manager, "签字确认", GateKind.approval),
    "feasibility": (Role.it, "IT 可行性评估", GateKind.feasibility),
    "kpi_actuals": (Role.agency, "提交实际 KPI", GateKind.submission),
}


def gate_spec(view: CampaignView, key: str, round: int, today: date) -> GateSpec:
    """The gate `key` of this campaign in round `round`, due by the campaign's timeline."""
    settings = get_settings()
    owner, title, kind = GATES[key]
    quick = calendar.add_working_days(today, settings.campaign_gate_working_days)
    due = {
        "plan_review": min(view.milestone("signoff").due_on, quick),
        "plan_revision": quick,
        "signoff": view.milestone("signoff").due_on,
        "feasibility": calendar.add_working_days(today, settings.feasibility_working_days),
        "kpi_actuals": view.milestone("report").due_on,
    }[key]
    return GateSpec(
        subject_type="campaign",
        subject_id=view.id,
        subject_code=view.code,
        subject_title=view.name,
        key=key,
        round=round,
        title=title,
        kind=kind,
        owner_role=owner,
        due_on=gate_due(due, today),
        plan_version=view.plan_version,
        escalate_to=f"person:{view.started_by}",
    )


def unknown_kpis(view: CampaignView, names: list[str]) -> str | None:
    unknown = sorted(set(names) - {k["name"] for k in view.kpis})
    return f"not KPIs of the plan: {', '.join(unknown)}" if unknown else None


@flow(
    name="campaign-pipeline",
    flow_run_name="campaign {plan.name} · start",
    log_prints=False,
    version="1",
)
def campaign_pipeline(plan: CampaignPlan, now: datetime | None = None) -> str:
    """Carry one campaign from its plan to its post-campaign report."""
    run_id = current_flow_run_id()
    today = calendar.business_date(now or datetime.now(UTC))
    campaign = register_campaign_task(plan, run_id, now)
    if campaign.replaced_run_id:
        retire_run_task(campaign.replaced_run_id, f"taken over by run {run_id}")
    label_run_task(run_id, f"{campaign.label} · timeline", campaign.tags)
    publish_timeline_task(campaign)
    advance_campaign_task(campaign.id, None, ["assessment"], now)

    def wait(view: CampaignView, key: str, question: str, **kwargs):
        spec = gate_spec(view, key, rounds[key], today)
        return wait_for_decision(
            spec,
            description=plan_markdown(view, question=question),
            run_label=view.label,
            tags=view.tags,
            now=now,
            **kwargs,
        )

    # Stage by stage; a void gate (the plan changed after sign-off) opens its next round.
    rounds: Counter[str] = Counter()
    stage, sent_back, sent_back_gate = "plan_review", None, ""
    while stage not in ("ready", "rejected"):
        view = load_campaign_task(campaign.id)
        if stage in ("plan_review", "signoff"):
            # The form shows this version: a round still open for another one is void (it
            # returns void below, and the next round shows this version).
            void_stale_open_gates_task(campaign.id, view.plan_version, now)
        rounds[stage] += 1
        r = rounds[stage]
        due = gate_spec(view, stage, r, today).due_on.isoformat()
        if stage == "plan_review":
            result = wait(
                view,
                stage,
                "Is this plan executable? approve / revise (comments) / reject",
                on_open=messages.review_requested(view, round=r, due_on=due),
            )
            if result.void:
                continue
            if result.outcome == "approve":
                advance_campaign_task(campaign.id, None, ["plan_review"], now)
            stage = {"approve": "signoff", "revise": "plan_revision", "reject": "rejected"}[
                result.outcome
            ]
        elif stage == "plan_revision":
            result = wait(
                view,
                stage,
                f"Revise the plan: {sent_back.comment}",
                input_model=PlanRevisionInput.with_initial_data(
                    summary=view.summary, policy=view.policy, budget=view.budget, kpis=view.kpis
                ),
                on_open=messages.revision_requested(
                    view,
                    round=r,
                    due_on=due,
                    by=sent_back.decider,
                    comment=sent_back.comment,
                    gate=GATES[sent_back_gate][1],
                ),
            )
            if result.void:
                continue
            # Revision r makes plan version r + 1 (version 1 is the plan the campaign began with).
            store_plan_revision_task(
                campaign.id, r + 1, result.decision.payload, result.decision.decider, now
            )
            stage = "plan_review"
        elif stage == "signoff":
            result = wait(
                view,
                stage,
                f"Sign off plan v{view.plan_version}: budget ¥{view.budget_total:,.2f} and KPIs",
                plan_hash=view.plan_hash,
                on_open=messages.signoff_requested(view, round=r, due_on=due),
            )
            if result.void:
                queue_notifications_task(messages.signoff_void(view), now)
                continue
            if result.outcome == "approve":
                advance_campaign_task(campaign.id, "signed", ["signoff"], now)
            stage = {"approve": "feasibility", "revise": "plan_revision", "reject": "rejected"}[
                result.outcome
            ]
        elif stage == "feasibility":
            result = wait(
                view,
                stage,
                "Can IT build the pages and features in time? feasible / not",
                on_open=messages.feasibility_requested(view, round=r, due_on=due),
            )
            if result.void:
                continue  # voided with the sign-off before it; that one was signed again
            stage = "ready" if result.outcome == "feasible" else "plan_revision"
        if stage == "plan_revision":
            sent_back, sent_back_gate = result.decision, result.gate.key

    if stage == "rejected":
        view = load_campaign_task(campaign.id)
        advance_campaign_task(campaign.id, "rejected", [], now)
        queue_notifications_task(
            messages.rejected(view, by=result.decision.decider, comment=result.decision.comment),
            now,
        )
        label_run_task(run_id, f"{view.label} · rejected")
        return "rejected"

    # Ready: pages are built; training, launch and the KPI request come from the sweep.
    advance_campaign_task(campaign.id, "ready", ["feasibility"], now)
    view = load_campaign_task(campaign.id)
    queue_notifications_task(messages.ready(view), now)
    publish_timeline_task(view)
    rounds["kpi_actuals"] += 1
    result = wait(
        view,
        "kpi_actuals",
        "After the campaign: actual KPI figures and spend, competitors' moves, next steps",
        input_model=KpiActualsInput,
        check=lambda answer: unknown_kpis(view, [a.name for a in answer.actuals]),
    )
    form = {"decider": result.decision.decider, **result.decision.payload}
    record_kpi_actuals_task(
        campaign.id, form["actuals"], form.get("spend_total"), result.decision.decider, now
    )
    path = render_report_task(campaign.id, form, now)
    advance_campaign_task(campaign.id, "reported", ["report"], now)
    queue_notifications_task(messages.report_ready(view, path=path), now)
    label_run_task(run_id, f"{view.label} · report")
    return path
