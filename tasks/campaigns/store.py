"""Campaigns in the store: register a plan (once per code), plan versions, the timeline's
milestones, status moves, amendments after sign-off, rescheduling, KPI actuals.

Data functions are plain and keyword-only and take the session; the tasks at the bottom
(`tasks.common.data_task`) are what the pipeline calls.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain import calendar
from domain.campaigns import (
    CLOSED_FOR_CHANGES,
    PLAN_BOUND_GATES,
    STAGES,
    CampaignPlan,
    CampaignStatus,
    PlanError,
    PlanProblem,
    TimelinePolicy,
    check_plan,
    launch_problems,
    plan_change_problems,
    plan_hash,
    reopen,
    status_move,
    timeline,
)
from domain.gates import GateView
from domain.models import (
    Campaign,
    CampaignKpiActual,
    CampaignPlanVersion,
    Dealer,
    Gate,
    GateStatus,
    Milestone,
    Region,
)
from domain.permissions import campaign_refusal
from tasks.audit import actor_of, record_refusal, retry_unless_refused
from tasks.common import data_task
from tasks.gates.store import void_gates, void_stale_signoffs


class MilestoneView(BaseModel):
    key: str
    title: str
    owner_role: str
    starts_on: date | None
    due_on: date
    status: str
    done_at: datetime | None = None


class CampaignView(BaseModel):
    """A campaign with its current plan version, as the pipeline and the CLI see it."""

    id: int
    code: str
    name: str
    kind: str
    launch_date: date
    end_date: date
    regions: list[str]
    status: CampaignStatus
    rush_reason: str | None
    handbook_url: str
    training_at: datetime | None = None
    training_join: str = ""
    started_by: str
    flow_run_id: str | None
    plan_version: int
    summary: str
    policy: str
    budget: list[dict[str, Any]]
    kpis: list[dict[str, Any]]
    plan_hash: str
    milestones: list[MilestoneView]
    spend_total: float | None = None
    report_path: str | None = None
    # Set when this run took the campaign over from another run (a re-run after a crash).
    replaced_run_id: str | None = None

    @property
    def budget_total(self) -> float:
        return round(sum(float(b["amount"]) for b in self.budget), 2)

    @property
    def rush(self) -> bool:
        return bool(self.rush_reason)

    def milestone(self, key: str) -> MilestoneView:
        for m in self.milestones:
            if m.key == key:
                return m
        raise KeyError(f"campaign {self.code}: no milestone {key!r}")

    @property
    def label(self) -> str:
        return f"campaign {self.name}"

    @property
    def tags(self) -> list[str]:
        return ["campaign", *(f"region:{code}" for code in self.regions)]


def timeline_policy(settings: Settings) -> TimelinePolicy:
    return TimelinePolicy(
        lead_days=settings.campaign_lead_days,
        signoff_before_launch_days=settings.signoff_before_launch_days,
        feasibility_working_days=settings.feasibility_working_days,
        golive_before_launch_working_days=settings.golive_before_launch_working_days,
        training_before_launch_working_days=settings.training_before_launch_working_days,
        report_due_days=settings.report_due_days,
        gate_working_days=settings.campaign_gate_working_days,
        slots_working_days=settings.slots_working_days,
        build_test_days=settings.build_test_days,
        golive_confirm_before_launch_working_days=(
            settings.golive_confirm_before_launch_working_days
        ),
    )


def known_regions(*, session: Session) -> set[str]:
    return set(session.execute(select(Region.code)).scalars())


def check_new_plan(*, session: Session, plan: CampaignPlan, now: datetime, settings: Settings):
    """Refuse a plan (PlanError, naming each field) as of `now`, by the policy's lead time and
    the regions in the store."""
    check_plan(
        plan,
        today=calendar.business_date(now),
        lead_days_required=settings.campaign_lead_days,
        known_regions=known_regions(session=session),
    )


def load_campaign(*, session: Session, campaign_id: int | None = None, code: str | None = None):
    """The campaign by id or code, with its current plan version and milestones."""
    query = select(Campaign)
    query = (
        query.where(Campaign.id == campaign_id)
        if campaign_id
        else query.where(Campaign.code == code)
    )
    campaign = session.execute(query).scalar_one_or_none()
    if campaign is None:
        raise LookupError(f"campaign {code or campaign_id!r} does not exist")
    version = session.execute(
        select(CampaignPlanVersion).where(
            CampaignPlanVersion.campaign_id == campaign.id,
            CampaignPlanVersion.version == campaign.plan_version,
        )
    ).scalar_one()
    milestones = session.execute(
        select(Milestone).where(Milestone.campaign_id == campaign.id).order_by(Milestone.id)
    ).scalars()
    return CampaignView(
        id=campaign.id,
        code=campaign.code,
        name=campaign.name,
        kind=campaign.kind,
        launch_date=campaign.launch_date,
        end_date=campaign.end_date,
        regions=list(campaign.regions),
        status=campaign.status,
        rush_reason=campaign.rush_reason,
        handbook_url=campaign.handbook_url,
        training_at=campaign.training_at,
        training_join=campaign.training_join,
        started_by=campaign.created_by,
        flow_run_id=campaign.flow_run_id,
        plan_version=version.version,
        summary=version.summary,
        policy=version.policy,
        budget=list(version.budget),
        kpis=list(version.kpis),
        plan_hash=version.plan_hash,
        milestones=[MilestoneView.model_validate(m, from_attributes=True) for m in milestones],
        spend_total=campaign.spend_total,
        report_path=campaign.report_path,
    )


def register_campaign(
    *,
    session: Session,
    plan: CampaignPlan,
    now: datetime,
    settings: Settings,
    flow_run_id: str | None = None,
) -> CampaignView:
    """Store a new campaign with plan version 1 and its milestones, or return the one with
    this code (a re-run or a resumed run). A new plan is validated first: nothing is stored
    for a refused plan."""
    existing = session.execute(
        select(Campaign).where(Campaign.code == plan.code)
    ).scalar_one_or_none()
    if existing is None:
        check_new_plan(session=session, plan=plan, now=now, settings=settings)
        insert_ignoring_conflicts(
            session,
            Campaign,
            [
                {
                    "code": plan.code,
                    "name": plan.name.strip(),
                    "kind": str(plan.kind),
                    "launch_date": plan.launch_date,
                    "end_date": plan.end_date,
                    "regions": list(plan.regions),
                    "status": CampaignStatus.planning,
                    "plan_version": 1,
                    "rush_reason": (plan.rush_reason or "").strip() or None,
                    "handbook_url": plan.handbook_url,
                    "training_at": plan.training_at,
                    "training_join": plan.training_join,
                    "created_by": plan.started_by,
                    "created_at": now,
                    "flow_run_id": flow_run_id,
                }
            ],
            on=["code"],
        )
        campaign = session.execute(select(Campaign).where(Campaign.code == plan.code)).scalar_one()
        add_plan_version(
            session=session,
            campaign_id=campaign.id,
            version=1,
            summary=plan.summary,
            policy=plan.policy,
            budget=[b.model_dump() for b in plan.budget],
            kpis=[k.model_dump() for k in plan.kpis],
            created_by=plan.started_by,
            note="first version",
            now=now,
        )
        derive_milestones(session=session, campaign=campaign, settings=settings)
    replaced = None
    if existing is not None:
        campaign = existing
        if flow_run_id and campaign.flow_run_id != flow_run_id:
            # This run carries the campaign from now on.
            replaced, campaign.flow_run_id = campaign.flow_run_id, flow_run_id
    session.flush()
    view = load_campaign(session=session, campaign_id=campaign.id)
    return view.model_copy(update={"replaced_run_id": replaced})


def derive_milestones(*, session: Session, campaign: Campaign, settings: Settings) -> int:
    """(Re)compute every milestone from L and the end date; returns how many dates moved."""
    existing = {
        m.key: m
        for m in session.execute(
            select(Milestone).where(Milestone.campaign_id == campaign.id)
        ).scalars()
    }
    done = {
        key: calendar.business_date(row.done_at)
        for key, row in existing.items()
        if row.status == "done" and row.done_at
    }
    planned = timeline(
        campaign.launch_date,
        campaign.end_date,
        timeline_policy(settings),
        started_on=calendar.business_date(campaign.created_at),
        done=done,
    )
    moved = 0
    for m in planned:
        row = existing.get(m.key)
        if row is None:
            session.add(
                Milestone(
                    campaign_id=campaign.id,
                    key=m.key,
                    title=m.title,
                    owner_role=m.owner_role,
                    starts_on=m.starts_on,
                    due_on=m.due_on,
                )
            )
        elif (row.starts_on, row.due_on) != (m.starts_on, m.due_on):
            row.starts_on, row.due_on = m.starts_on, m.due_on
            moved += 1
    session.flush()
    return moved


def add_plan_version(
    *,
    session: Session,
    campaign_id: int,
    summary: str,
    policy: str,
    budget: list[dict],
    kpis: list[dict],
    created_by: str,
    now: datetime,
    note: str = "",
    version: int | None = None,
) -> int:
    """Store a plan version (once per number) and make it current; returns its number."""
    campaign = session.get(Campaign, campaign_id)
    if version is None:
        latest = session.execute(
            select(CampaignPlanVersion.version)
            .where(CampaignPlanVersion.campaign_id == campaign_id)
            .order_by(CampaignPlanVersion.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        version = (latest or 0) + 1
    insert_ignoring_conflicts(
        session,
        CampaignPlanVersion,
        [
            {
                "campaign_id": campaign_id,
                "version": version,
                "summary": summary,
                "policy": policy,
                "note": note,
                "budget": budget,
                "kpis": kpis,
                "plan_hash": plan_hash(summary=summary, policy=policy, budget=budget, kpis=kpis),
                "created_by": created_by,
                "created_at": now,
            }
        ],
        on=["campaign_id", "version"],
    )
    campaign.plan_version = max(campaign.plan_version, version)
    session.flush()
    return version


def amend_plan(
    *,
    session: Session,
    code: str,
    by: str,
    now: datetime,
    note: str,
    summary: str | None = None,
    policy: str | None = None,
    budget: list[dict] | None = None,
    kpis: list[dict] | None = None,
) -> tuple[CampaignView, list[GateView]]:
    """A new plan version outside the review loop (e.g. the budget changes after sign-off).
    A sign-off of another plan hash is void, with the gates after it that still wait."""
    current = load_campaign(session=session, code=code)
    if current.status in CLOSED_FOR_CHANGES:
        raise PlanError([PlanProblem("status", f"campaign {code} is {current.status}")])
    new = {
        "summary": current.summary if summary is None else summary,
        "policy": current.policy if policy is None else policy,
        "budget": current.budget if budget is None else budget,
        "kpis": current.kpis if kpis is None else kpis,
    }
    problems = plan_change_problems(new["budget"], new["kpis"])
    if problems:
        raise PlanError(problems)
    if plan_hash(**new) == current.plan_hash:
        return current, []
    add_plan_version(
        session=session, campaign_id=current.id, created_by=by, now=now, note=note, **new
    )
    view = load_campaign(session=session, campaign_id=current.id)
    voided = void_stale_signoffs(
        session=session,
        subject_type="campaign",
        subject_id=current.id,
        key="signoff",
        current_hash=view.plan_hash,
        now=now,
        downstream=("feasibility",),
    )
    # A gate still waiting with the old version on its form: its approver would sign what
    # they did not see. Void it; the woken run opens the next round showing this version.
    voided += void_stale_open_gates(
        session=session, campaign_id=current.id, plan_version=view.plan_version, now=now
    )
    if voided:
        campaign = session.get(Campaign, current.id)
        campaign.status = reopen(campaign.status)
        session.flush()
        view = load_campaign(session=session, campaign_id=current.id)
    return view, voided


def void_stale_open_gates(
    *, session: Session, campaign_id: int, plan_version: int, now: datetime
) -> list[GateView]:
    """Void the open plan-bound gates (review, sign-off) of this campaign that show another
    plan version on their form."""
    stale = session.execute(
        select(Gate.id).where(
            Gate.subject_type == "campaign",
            Gate.subject_id == campaign_id,
            Gate.key.in_(PLAN_BOUND_GATES),
            Gate.status == GateStatus.open,
            Gate.plan_version.is_not(None),
            Gate.plan_version != plan_version,
        )
    ).scalars()
    return void_gates(
        session=session,
        gate_ids=list(stale),
        now=now,
        reason=f"the plan changed to v{plan_version} while this gate waited",
    )


def reschedule(
    *,
    session: Session,
    code: str,
    new_launch: date,
    now: datetime,
    settings: Settings,
    rush_reason: str | None = None,
) -> tuple[CampaignView, CampaignView]:
    """Move L (the end moves with it); milestones and the due dates of waiting gates are
    derived again. Returns (before, after)."""
    before = load_campaign(session=session, code=code)
    today = calendar.business_date(now)
    problems = []
    if before.status in CLOSED_FOR_CHANGES:
        problems.append(PlanProblem("status", f"campaign {code} is {before.status}"))
    problems += launch_problems(
        new_launch,
        today=today,
        lead_days_required=settings.campaign_lead_days,
        rush_reason=rush_reason or before.rush_reason,
    )
    if problems:
        raise PlanError(problems)
    campaign = session.get(Campaign, before.id)
    shift = new_launch - campaign.launch_date
    campaign.launch_date = new_launch
    campaign.end_date = campaign.end_date + shift
    if rush_reason:
        campaign.rush_reason = rush_reason
    derive_milestones(session=session, campaign=campaign, settings=settings)
    after = load_campaign(session=session, campaign_id=campaign.id)
    # Waiting gates follow their milestone (review and sign-off by L-30, report by end+7).
    gate_milestone = {
        str(stage): spec.due.milestone
        for stage, spec in STAGES.items()
        if spec.is_gate and spec.due.milestone
    }
    for gate in session.execute(
        select(Gate).where(
            Gate.subject_type == "campaign",
            Gate.subject_id == campaign.id,
            Gate.status == GateStatus.open,
            Gate.key.in_(gate_milestone),
        )
    ).scalars():
        due = after.milestone(gate_milestone[gate.key]).due_on
        if STAGES[gate.key].due.working_days:
            due = min(due, gate.due_on)  # a quick round stays quick; only an earlier L pulls it in
        gate.due_on = max(due, calendar.next_working_day(today))
    session.flush()
    return before, after


def set_status(*, session: Session, campaign_id: int, status: CampaignStatus | str) -> bool:
    """Move the campaign forward to `status` (domain.campaigns.STATUS_MOVES); never back (a
    replayed run passes earlier stages again). Only `amend_plan` sends a campaign back to
    planning. Returns whether it changed."""
    campaign = session.get(Campaign, campaign_id)
    if not status_move(campaign.status, status):
        return False
    status = CampaignStatus(status)
    campaign.status = status
    session.flush()
    return True


def mark_milestone(
    *, session: Session, campaign_id: int, key: str, now: datetime, status: str = "done"
) -> bool:
    """Mark a milestone done (once; the first time counts). Returns whether it changed."""
    row = session.execute(
        select(Milestone).where(Milestone.campaign_id == campaign_id, Milestone.key == key)
    ).scalar_one()
    if row.status != "planned":
        return False
    row.status, row.done_at = status, now
    session.flush()
    return True


def record_kpi_actuals(
    *,
    session: Session,
    campaign_id: int,
    actuals: list[dict],
    spend_total: float | None,
    by: str,
    now: datetime,
) -> int:
    """Store actual KPI figures (one row per KPI name; a re-run adds nothing)."""
    rows = [
        {
            "campaign_id": campaign_id,
            "name": a["name"],
            "actual": float(a["actual"]),
            "reported_by": by,
            "reported_at": now,
        }
        for a in actuals
    ]
    added = insert_ignoring_conflicts(session, CampaignKpiActual, rows, on=["campaign_id", "name"])
    campaign = session.get(Campaign, campaign_id)
    if spend_total is not None and campaign.spend_total is None:
        campaign.spend_total = float(spend_total)
    session.flush()
    return len(added)


def kpi_actuals(*, session: Session, campaign_id: int) -> dict[str, float]:
    rows = session.execute(
        select(CampaignKpiActual.name, CampaignKpiActual.actual).where(
            CampaignKpiActual.campaign_id == campaign_id
        )
    )
    return dict(rows.all())


def dealers_of(*, session: Session, regions: list[str]) -> list[str]:
    return list(
        session.execute(
            select(Dealer.code)
            .where(Dealer.region_code.in_(regions), Dealer.active.is_(True))
            .order_by(Dealer.code)
        ).scalars()
    )


def check_campaign_actor(
    *, session: Session, action: str, code: str, username: str, now: datetime
) -> str | None:
    """Why `username` may not do `action` (`campaign.start`, ...) to campaign `code`, or
    None. A refusal is recorded in the session; the caller raises it (tasks.audit.Refused)
    after the session commits, so the record stays."""
    actor = actor_of(session=session, username=username)
    reason = campaign_refusal(actor, username=username, action=action)
    if reason is None:
        return None
    subject = f"campaign:{code}"
    record_refusal(
        session=session, action=action, subject=subject, actor=username, reason=reason, now=now
    )
    return f"{subject}: {action.split('.')[-1]} refused: {reason}"


def store_plan_revision(
    *,
    session: Session,
    campaign_id: int,
    version: int,
    revision: dict[str, Any],
    by: str,
    now: datetime,
) -> CampaignView:
    """The agency's revised plan becomes version `version` (once)."""
    add_plan_version(
        session=session,
        campaign_id=campaign_id,
        version=version,
        summary=revision["summary"],
        policy=revision.get("policy", ""),
        budget=revision["budget"],
        kpis=revision["kpis"],
        created_by=by,
        note=revision.get("note", ""),
        now=now,
    )
    return load_campaign(session=session, campaign_id=campaign_id)


def advance_campaign(
    *,
    session: Session,
    campaign_id: int,
    now: datetime,
    settings: Settings,
    status: CampaignStatus | None = None,
    milestones_done: list[str] | tuple[str, ...] = (),
) -> None:
    """Move the campaign forward (never back) and mark milestones done (once); the steps
    that start when these are done start on the day they were (the timeline follows)."""
    if status:
        set_status(session=session, campaign_id=campaign_id, status=status)
    marked = [
        mark_milestone(session=session, campaign_id=campaign_id, key=key, now=now)
        for key in milestones_done
    ]
    if any(marked):
        derive_milestones(
            session=session, campaign=session.get(Campaign, campaign_id), settings=settings
        )


# ---------------------------------------------------------------- tasks

# A refused input (unknown campaign, a bad plan) is an answer: it is never retried.
RETRY = {"retries": 2, "retry_delay_seconds": [2, 10], "retry_condition_fn": retry_unless_refused}

check_campaign_actor_task = data_task(check_campaign_actor, **RETRY)
# No retries: a refused plan must fail the run at once, naming the field.
register_campaign_task = data_task(register_campaign)
void_stale_open_gates_task = data_task(void_stale_open_gates, **RETRY)
load_campaign_task = data_task(load_campaign, **RETRY)
store_plan_revision_task = data_task(store_plan_revision, **RETRY)
advance_campaign_task = data_task(advance_campaign, **RETRY)
record_kpi_actuals_task = data_task(record_kpi_actuals, **RETRY)
