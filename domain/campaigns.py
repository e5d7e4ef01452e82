"""Campaigns: the 45-day preparation pipeline (DOMAIN §4) as pure rules.

The plan a campaign manager starts with, its validation (each problem names its field), the
timeline computed backwards from the launch date L on the working-day calendar, and the plan
hash a sign-off binds. Policy numbers come in as parameters (clubflow.core.settings).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from domain import calendar
from domain.models import Role

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class CampaignKind(StrEnum):
    ecommerce_festival = "ecommerce_festival"  # 电商节
    model_launch = "model_launch"  # 新车上市
    points_festival = "points_festival"  # 积分节
    other = "other"


class BudgetLine(BaseModel):
    item: str = Field(description="What the money is for, e.g. 平台资源位")
    amount: float = Field(description="CNY")


class Kpi(BaseModel):
    name: str = Field(description="e.g. 线索量, GMV, 新增会员")
    target: float | None = Field(None, description="The figure the campaign commits to")
    unit: str = ""


class CampaignPlan(BaseModel):
    """What a campaign manager starts a campaign with (the Prefect UI renders it as a form)."""

    code: str = Field(description="Short unique code, e.g. 2027-d11 (lower case, digits, -)")
    name: str = Field(description="e.g. 2027 双十一")
    kind: CampaignKind = CampaignKind.ecommerce_festival
    launch_date: date = Field(description="L: the first day of the campaign")
    end_date: date
    regions: list[str] = Field(description="Region codes, e.g. chengdu, beijing")
    summary: str = Field("", description="The plan: platform activities, resources, timing")
    policy: str = Field("", description="Policy for dealers and customers (discounts, gifts)")
    budget: list[BudgetLine] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
    rush_reason: str | None = Field(
        None, description="Only if L is less than the policy lead time away: why"
    )
    handbook_url: str = Field("", description="Dealer handbook link for the training notice")
    started_by: str = Field(description="Username of the campaign manager")

    @property
    def budget_total(self) -> float:
        return round(sum(line.amount for line in self.budget), 2)


@dataclass(frozen=True)
class PlanProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class PlanError(ValueError):
    """A plan refused; `problems` name each field. Nothing is stored for a refused plan."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = problems
        super().__init__("plan refused: " + "; ".join(str(p) for p in problems))


def lead_days(launch_date: date, today: date) -> int:
    return (launch_date - today).days


def plan_problems(
    plan: CampaignPlan, *, today: date, lead_days_required: int, known_regions: set[str]
) -> list[PlanProblem]:
    """Every problem of `plan`, each naming its field (empty list: the plan may start)."""
    problems: list[PlanProblem] = []
    add = problems.append
    if not re.match(CODE_PATTERN, plan.code):
        add(PlanProblem("code", f"{plan.code!r} must be lower case letters, digits and '-'"))
    if not plan.name.strip():
        add(PlanProblem("name", "is empty"))
    if not plan.started_by.strip():
        add(PlanProblem("started_by", "is empty"))
    if plan.launch_date < today:
        add(PlanProblem("launch_date", f"{plan.launch_date} is in the past (today is {today})"))
    else:
        lead = lead_days(plan.launch_date, today)
        if lead < lead_days_required and not (plan.rush_reason or "").strip():
            add(
                PlanProblem(
                    "launch_date",
                    f"{plan.launch_date} is {lead} days away; campaigns need "
                    f"{lead_days_required} days of lead time, or a rush_reason",
                )
            )
    if plan.end_date < plan.launch_date:
        add(PlanProblem("end_date", f"{plan.end_date} is before launch_date {plan.launch_date}"))
    if not plan.regions:
        add(PlanProblem("regions", "name at least one region"))
    for i, code in enumerate(plan.regions):
        if code not in known_regions:
            add(PlanProblem(f"regions[{i}]", f"unknown region {code!r}"))
    if not plan.budget:
        add(PlanProblem("budget", "is empty; give at least one line"))
    for i, line in enumerate(plan.budget):
        if not line.item.strip():
            add(PlanProblem(f"budget[{i}].item", "is empty"))
        if line.amount <= 0:
            add(PlanProblem(f"budget[{i}].amount", f"{line.amount} must be positive"))
    if not plan.kpis:
        add(PlanProblem("kpis", "is empty; give at least one KPI with its target"))
    for i, kpi in enumerate(plan.kpis):
        if not kpi.name.strip():
            add(PlanProblem(f"kpis[{i}].name", "is empty"))
        if kpi.target is None:
            add(PlanProblem(f"kpis[{i}].target", f"KPI {kpi.name!r} has no target"))
    names = [k.name for k in plan.kpis]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add(PlanProblem("kpis", f"KPI {name!r} is listed twice"))
    return problems


def check_plan(
    plan: CampaignPlan, *, today: date, lead_days_required: int, known_regions: set[str]
) -> None:
    problems = plan_problems(
        plan, today=today, lead_days_required=lead_days_required, known_regions=known_regions
    )
    if problems:
        raise PlanError(problems)


def plan_hash(*, summary: str, policy: str, budget: list[dict], kpis: list[dict]) -> str:
    """What a sign-off signs: plan text, budget lines and KPIs (order kept, amounts as
    numbers). Any change to them changes the hash and voids the sign-off."""
    canonical = {
        "summary": summary.strip(),
        "policy": policy.strip(),
        "budget": [{"item": b["item"].strip(), "amount": round(float(b["amount"]), 2)}
                   for b in budget],
        "kpis": [{"name": k["name"].strip(), "target": float(k["target"]),
                  "unit": (k.get("unit") or "").strip()} for k in kpis],
    }  # fmt: skip
    data = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class TimelinePolicy:
    lead_days: int = 45
    signoff_before_launch_days: int = 30
    feasibility_working_days: int = 2
    golive_before_launch_working_days: int = 3
    training_before_launch_working_days: int = 2
    report_due_days: int = 7


@dataclass(frozen=True)
class MilestonePlan:
    key: str
    title: str
    owner_role: Role
    due_on: date
    starts_on: date | None = None


def timeline(launch: date, end: date, policy: TimelinePolicy) -> list[MilestonePlan]:
    """The milestones of DOMAIN §4, backwards from L (working days where the table says days
    of work; a "by" date that falls on a rest day moves to the working day before it)."""
    cal_prev = calendar.previous_working_day
    assess = cal_prev(launch - timedelta(policy.lead_days))
    signoff = cal_prev(launch - timedelta(policy.signoff_before_launch_days))
    feasibility = calendar.add_working_days(signoff, policy.feasibility_working_days)
    golive = calendar.add_working_days(launch, -policy.golive_before_launch_working_days)
    training = calendar.add_working_days(launch, -policy.training_before_launch_working_days)
    return [
        MilestonePlan("assessment", "平台资源收集与评估", Role.agency, assess),
        MilestonePlan("plan_review", "方案评审", Role.campaign_manager, signoff, assess),
        MilestonePlan("signoff", "签字确认", Role.campaign_manager, signoff),
        MilestonePlan("feasibility", "IT 可行性评估", Role.it, feasibility, signoff),
        MilestonePlan("build_test", "页面搭建与功能测试", Role.agency, golive, feasibility),
        MilestonePlan("golive", "上架与页面上线", Role.agency, golive),
        MilestonePlan(
            "training",
            "经销商手册与培训",
            Role.campaign_manager,
            calendar.add_working_days(launch, -1),
            training,
        ),
        MilestonePlan("launch", "活动上线", Role.agency, end, launch),
        MilestonePlan("kpi_request", "收集实际 KPI", Role.agency, end + timedelta(1)),
        MilestonePlan("report", "活动分析报告", Role.agency,
                      end + timedelta(policy.report_due_days), end + timedelta(1)),
    ]  # fmt: skip


def step_date(milestone: MilestonePlan) -> date:
    """The day a dated step fires: the start of its window if it has one, else its due date."""
    return milestone.starts_on or milestone.due_on


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class KpiRow:
    name: str
    unit: str
    target: float
    actual: float | None

    @property
    def attainment(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return round(self.actual / self.target * 100, 1)

    @property
    def met(self) -> bool | None:
        return None if self.actual is None else self.actual >= self.target


def kpi_rows(kpis: list[dict], actuals: dict[str, float]) -> list[KpiRow]:
    return [
        KpiRow(k["name"], k.get("unit") or "", float(k["target"]), actuals.get(k["name"]))
        for k in kpis
    ]


def timeline_kept(due_on: date, done_on: date | None) -> str:
    """kept / missed / open, for the report's timeline table."""
    if done_on is None:
        return "open"
    return "kept" if done_on <= due_on else "missed"
