"""The 45-day campaign pipeline: plan review rounds ↔ agency revisions, sign-off bound to the
plan version, IT feasibility, the platform slots, page build and function test, go-live (the
dated steps run meanwhile through the sweep) and the post-campaign report once the actual KPI
figures are in.

The stages, their gates and where each outcome leads are the table `domain.campaigns.STAGES`;
this run walks it. Each gate suspends the run, and a decision resumes it from the top. The
replay is cheap and safe: the campaign is stored once by its code, decided gates return their
decisions from the store, and notifications carry idempotency keys. The stage and the round of
each gate follow from the decisions already recorded, in order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings, get_settings
from domain import calendar
from domain.campaigns import (
    DONE,
    FIRST_DONE,
    STAGES,
    VOID,
    CampaignPlan,
    Position,
    Stage,
    gate_due,
    next_move,
    stage_due,
    unknown_kpis,
)
from domain.gates import GateSpec
from flows.campaigns.forms import KpiActualsInput, PlanRevisionInput, SlotsInput
from flows.gates import GateOutcome, current_flow_run_id, wait_for_decision
from flows.naming import clock
from tasks.audit import Refused
from tasks.campaigns import messages
from tasks.campaigns.live import record_slots_task
from tasks.campaigns.report import plan_markdown, publish_timeline_task, render_report_task
from tasks.campaigns.store import (
    CampaignView,
    advance_campaign_task,
    check_campaign_actor_task,
    load_campaign_task,
    record_kpi_actuals_task,
    register_campaign_task,
    store_plan_revision_task,
    void_stale_open_gates_task,
)
from tasks.gates.runs import label_run_task, retire_run_task
from tasks.outbox import queue_notifications_task


def take_up(plan: CampaignPlan, run_id: str, *, now: datetime, settings: Settings) -> CampaignView:
    """Only a campaign manager starts a campaign (a refusal is recorded and fails the run);
    the plan is checked and stored once by its code, and this run carries it from now on."""
    refused = check_campaign_actor_task(
        action="campaign.start",
        code=plan.code,
        username=plan.started_by,
        now=now,
        settings=settings,
    )
    if refused:
        raise Refused(refused)
    campaign = register_campaign_task(plan=plan, flow_run_id=run_id, now=now, settings=settings)
    if campaign.replaced_run_id:
        retire_run_task(campaign.replaced_run_id, f"taken over by run {run_id}")
    label_run_task(run_id, f"{campaign.label} · timeline", campaign.tags)
    publish_timeline_task(campaign)
    advance_campaign_task(
        campaign_id=campaign.id, milestones_done=FIRST_DONE, now=now, settings=settings
    )
    return campaign


def gate_spec(
    view: CampaignView, stage: Stage, round: int, today: date, settings: Settings
) -> GateSpec:
    """The gate of `stage` for this campaign in round `round`, due by the stage's rule."""
    spec = STAGES[stage]
    due = stage_due(
        stage,
        today=today,
        milestone_due=lambda key: view.milestone(key).due_on,
        quick_working_days=settings.campaign_gate_working_days,
        feasibility_working_days=settings.feasibility_working_days,
    )
    return GateSpec(
        subject_type="campaign",
        subject_id=view.id,
        subject_code=view.code,
        subject_title=view.name,
        key=stage,
        round=round,
        title=spec.title,
        kind=spec.kind,
        owner_role=spec.owner,
        due_on=gate_due(due, today),
        plan_version=view.plan_version,
        escalate_to=f"person:{view.started_by}",
    )


BUILD_QUESTIONS = {
    Stage.slots: "Record the platform slots applied for at the key dates, and what was granted",
    Stage.build_test: "Pages built and function-tested? confirmed",
    Stage.golive: "Listing and pages live (2–3 days before L)? confirmed",
}


def ask(
    view: CampaignView,
    stage: Stage,
    round: int,
    due: str,
    why: GateOutcome | None,
    link: str = "",
) -> tuple[str, dict[str, Any]]:
    """What the gate of `stage` asks above its form, and how: (question, wait options)."""
    if stage in BUILD_QUESTIONS:
        spec = STAGES[stage]
        opened = messages.gate_opened(
            view, key=stage, title=spec.title, owner=spec.owner, round=round, due_on=due, link=link
        )
        options: dict[str, Any] = {"on_open": opened}
        if stage == Stage.slots:
            options["input_model"] = SlotsInput
        return BUILD_QUESTIONS[stage], options
    if stage == Stage.plan_review:
        return "Is this plan executable? approve / revise (comments) / reject", {
            "on_open": messages.review_requested(view, round=round, due_on=due)
        }
    if stage == Stage.plan_revision:
        sent_back = why.decision
        return f"Revise the plan: {sent_back.comment}", {
            "input_model": PlanRevisionInput.with_initial_data(
                summary=view.summary, policy=view.policy, budget=view.budget, kpis=view.kpis
            ),
            "on_open": messages.revision_requested(
                view,
                round=round,
                due_on=due,
                by=sent_back.decider,
                comment=sent_back.comment,
                gate=STAGES[Stage(why.gate.key)].title,
            ),
        }
    if stage == Stage.signoff:
        budget = f"budget ¥{view.budget_total:,.2f}"
        return f"Sign off plan v{view.plan_version}: {budget} and KPIs", {
            "plan_hash": view.plan_hash,
            "on_open": messages.signoff_requested(view, round=round, due_on=due),
        }
    if stage == Stage.feasibility:
        return "Can IT build the pages and features in time? feasible / not", {
            "on_open": messages.feasibility_requested(view, round=round, due_on=due)
        }
    if stage == Stage.kpi_actuals:
        question = (
            "After the campaign: actual KPI figures and spend, competitors' moves, next steps"
        )
        return question, {"input_model": KpiActualsInput, "check": _kpis_of(view)}
    raise ValueError(f"stage {stage} is not a gate")


def _kpis_of(view: CampaignView):
    def check(answer: KpiActualsInput) -> str | None:
        unknown = unknown_kpis(view.kpis, [a.name for a in answer.actuals])
        return f"not KPIs of the plan: {', '.join(unknown)}" if unknown else None

    return check


def at_gate(
    campaign_id: int,
    position: Position,
    why: GateOutcome | None,
    *,
    today: date,
    now: datetime,
    settings: Settings,
) -> GateOutcome:
    """Open the gate of this stage and round and wait for its decision (or its voiding); a
    handed-in revision becomes the next plan version, a void sign-off is announced."""
    stage = position.stage
    view = load_campaign_task(campaign_id=campaign_id, settings=settings)
    if position.spec.plan_bound:
        # The form shows this version: a round still open for another one is void (it
        # returns void below, and the next round shows this version).
        void_stale_open_gates_task(
            campaign_id=campaign_id, plan_version=view.plan_version, now=now, settings=settings
        )
    spec = gate_spec(view, stage, position.round, today, settings)
    publish_timeline_task(view)
    link = portal_link("/", settings=settings, now=now)
    question, options = ask(view, stage, position.round, spec.due_on.isoformat(), why, link)
    result = wait_for_decision(
        spec,
        description=plan_markdown(view, question=question),
        run_label=view.label,
        tags=view.tags,
        now=now,
        **options,
    )
    if result.void and stage == Stage.signoff:
        queue_notifications_task(messages.signoff_void(view), now)
    if not result.void and stage == Stage.plan_revision:
        # Revision r makes plan version r + 1 (version 1 is the plan the campaign began with).
        store_plan_revision_task(
            campaign_id=campaign_id,
            version=position.round + 1,
            revision=result.decision.payload,
            by=result.decision.decider,
            now=now,
            settings=settings,
        )
    if not result.void and stage == Stage.slots:
        record_slots_task(
            campaign_id=campaign_id,
            slots=result.decision.payload.get("slots", []),
            by=result.decision.decider,
            now=now,
            settings=settings,
        )
    return result


def ready(campaign_id: int, why: GateOutcome, *, now: datetime, settings: Settings):
    """Pages are built: the agency and IT hear it, and the timeline shows the step done."""
    view = load_campaign_task(campaign_id=campaign_id, settings=settings)
    queue_notifications_task(messages.ready(view), now)
    publish_timeline_task(view)
    return why


def report(campaign_id: int, why: GateOutcome, *, now: datetime, settings: Settings) -> str:
    """The figures handed in are stored and the report rendered; returns its path."""
    decision = why.decision
    form = {"decider": decision.decider, **decision.payload}
    record_kpi_actuals_task(
        campaign_id=campaign_id,
        actuals=form["actuals"],
        spend_total=form.get("spend_total"),
        by=decision.decider,
        now=now,
        settings=settings,
    )
    return render_report_task(campaign_id=campaign_id, form=form, now=now, settings=settings)


STEPS = {Stage.ready: ready, Stage.report: report}


def announce_end(
    campaign_id: int, run_id: str, stage: Stage, why, *, now: datetime, settings: Settings
) -> str:
    """Who hears how it ended, and the run's name: rejected, or the report's path."""
    view = load_campaign_task(campaign_id=campaign_id, settings=settings)
    if stage == Stage.rejected:
        decision = why.decision
        queue_notifications_task(
            messages.rejected(view, by=decision.decider, comment=decision.comment), now
        )
        label_run_task(run_id, f"{view.label} · rejected")
        return "rejected"
    queue_notifications_task(messages.report_ready(view, path=why), now)
    label_run_task(run_id, f"{view.label} · report")
    return why


@flow(
    name="campaign-pipeline",
    flow_run_name="campaign {plan.name} · start",
    log_prints=False,
    version="2",
)
def campaign_pipeline(plan: CampaignPlan, now: datetime | None = None) -> str:
    """Carry one campaign from its plan to its post-campaign report (or its rejection)."""
    settings = get_settings()
    now = clock(now)
    today = calendar.business_date(now)
    run_id = current_flow_run_id()
    campaign = take_up(plan, run_id, now=now, settings=settings)

    # Stage by stage, as the table says; `why` is what brought the run to its stage (the
    # decision that sent the plan back, the KPI figures, the report's path).
    position, why = Position(), None
    while not position.spec.is_end:
        if position.spec.is_gate:
            result = at_gate(campaign.id, position, why, today=today, now=now, settings=settings)
            outcome, handed = (VOID, why) if result.void else (result.outcome, result)
        else:
            step = STEPS[position.stage]
            outcome, handed = DONE, step(campaign.id, why, now=now, settings=settings)
        move = next_move(position.stage, outcome)
        if move.status or move.done:
            advance_campaign_task(
                campaign_id=campaign.id,
                status=move.status,
                milestones_done=move.done,
                now=now,
                settings=settings,
            )
        position, why = position.after(move), handed
    return announce_end(campaign.id, run_id, position.stage, why, now=now, settings=settings)
