"""Campaigns: the 45-day preparation pipeline as pure rules.

The plan a campaign manager starts with, its validation (each problem names its field), the
timeline computed backwards from the launch date L on the working-day calendar, the plan hash
a sign-off binds, the campaign's statuses with their allowed moves, and the pipeline's stages
as a table (stage → gate or step, due rule, next stage on each outcome). Policy numbers come
in as parameters (clubflow.core.settings).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from domain import calendar
from domain.gates import GateKind
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


class SlotLine(BaseModel):
    """A platform resource slot the agency applied for, and what was granted."""

    name: str = Field(description="e.g. 天猫首页焦点图")
    kind: Literal["paid", "free"] = Field(description="paid or free")
    key_date: date = Field(description="The platform's key date the application was for")
    applied: bool = True
    granted: bool = False
    granted_qty: int = Field(0, ge=0)
    cost: float = Field(0.0, ge=0, description="CNY (paid slots)")


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
    training_at: datetime | None = Field(
        None, description="When the dealer training starts (its notice names it)"
    )
    training_join: str = Field(
        "", description="How dealers join the training: a meeting link, a room, a dial-in"
    )
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


def launch_problems(
    launch: date, *, today: date, lead_days_required: int, rush_reason: str | None
) -> list[PlanProblem]:
    """L in the past, or less than the lead time away without a rush reason."""
    if launch < today:
        return [PlanProblem("launch_date", f"{launch} is in the past (today is {today})")]
    lead = lead_days(launch, today)
    if lead < lead_days_required and not (rush_reason or "").strip():
        return [
            PlanProblem(
                "launch_date",
                f"{launch} is {lead} days away; campaigns need "
                f"{lead_days_required} days of lead time, or a rush_reason",
            )
        ]
    return []


def plan_change_problems(budget: list[dict], kpis: list[dict]) -> list[PlanProblem]:
    """What is wrong with a revised or amended plan's budget lines and KPIs."""
    problems = []
    if not budget:
        problems.append(PlanProblem("budget", "is empty; give at least one line"))
    for i, line in enumerate(budget):
        if float(line.get("amount") or 0) <= 0:
            problems.append(
                PlanProblem(f"budget[{i}].amount", f"{line.get('amount')} must be positive")
            )
    for i, kpi in enumerate(kpis):
        if kpi.get("target") is None:
            problems.append(
                PlanProblem(f"kpis[{i}].target", f"KPI {kpi.get('name')!r} has no target")
            )
    return problems


def unknown_kpis(kpis: list[dict], names: list[str]) -> list[str]:
    """The names that are no KPI of the plan, sorted."""
    return sorted(set(names) - {k["name"] for k in kpis})


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
    problems += launch_problems(
        plan.launch_date,
        today=today,
        lead_days_required=lead_days_required,
        rush_reason=plan.rush_reason,
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
    gate_working_days: int = 3  # a review round or a revision (campaign_gate_working_days)
    slots_working_days: int = 5
    build_test_days: int = 15
    golive_confirm_before_launch_working_days: int = 2


@dataclass(frozen=True)
class MilestonePlan:
    key: str
    title: str
    owner_role: Role
    due_on: date
    starts_on: date | None = None


def timeline(
    launch: date,
    end: date,
    policy: TimelinePolicy,
    *,
    started_on: date | None = None,
    done: Mapping[str, date] | None = None,
) -> list[MilestonePlan]:
    """The milestones of the 45-day process, backwards from L (working days where a step
    takes days of work; a "by" date that falls on a rest day moves to the working day before
    it). A step that starts when another is done starts on the day it was done (`done`), else
    on the planned day. A gate's row is due by the same rule as the gate (`stage_due`): the
    plan review's round 1 opens the day the campaign started (`started_on`), IT's check the
    day of the sign-off."""
    done = done or {}
    cal_prev = calendar.previous_working_day
    assess = cal_prev(launch - timedelta(policy.lead_days))
    signoff = cal_prev(launch - timedelta(policy.signoff_before_launch_days))
    planned = {"signoff": signoff}

    def due(stage: Stage, opens: date) -> date:
        return stage_due(
            stage,
            today=opens,
            milestone_due=planned.__getitem__,
            quick_working_days=policy.gate_working_days,
            feasibility_working_days=policy.feasibility_working_days,
        )

    review_opens = started_on or assess
    feasibility_opens = done.get("signoff", signoff)
    feasibility = due(Stage.feasibility, feasibility_opens)
    golive_from = calendar.add_working_days(launch, -policy.golive_before_launch_working_days)
    golive = calendar.add_working_days(launch, -policy.golive_confirm_before_launch_working_days)
    build_opens = done.get("feasibility", feasibility)
    build = min(cal_prev(build_opens + timedelta(policy.build_test_days)), golive_from)
    slots = min(calendar.add_working_days(build_opens, policy.slots_working_days), build)
    training = calendar.add_working_days(launch, -policy.training_before_launch_working_days)
    return [
        MilestonePlan("assessment", "平台资源收集与评估", Role.agency, assess),
        MilestonePlan("plan_review", "方案评审", Role.campaign_manager,
                      due(Stage.plan_review, review_opens), review_opens),
        MilestonePlan("signoff", "签字确认", Role.campaign_manager, signoff),
        MilestonePlan("feasibility", "IT 可行性评估", Role.it, feasibility, feasibility_opens),
        MilestonePlan("slots", "平台资源位申请", Role.agency, slots, build_opens),
        MilestonePlan("build_test", "页面搭建与功能测试", Role.it, build, build_opens),
        MilestonePlan("golive", "上架与页面上线", Role.agency, golive, golive_from),
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


# ---------------------------------------------------------------- the campaign's status


class CampaignStatus(StrEnum):
    planning = "planning"  # reviews, revisions, sign-off
    signed = "signed"  # the plan is signed off; IT checks feasibility
    ready = "ready"  # pages are built; training, launch and the KPI request follow by date
    live = "live"  # L has come
    reporting = "reporting"  # the campaign ended; the agency hands in the actual figures
    reported = "reported"  # the post-campaign report is out
    rejected = "rejected"


S = CampaignStatus
# The moves forward. A sign-off may be followed by a rejection (IT sends the plan back, the
# next review rejects it); the KPI figures may come in before the sweep marks the end.
STATUS_MOVES: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.planning: frozenset({S.signed, S.rejected}),
    S.signed: frozenset({S.ready, S.rejected}),
    S.ready: frozenset({S.live, S.reported}),
    S.live: frozenset({S.reporting, S.reported}),
    S.reporting: frozenset({S.reported}),
    S.reported: frozenset(),
    S.rejected: frozenset(),
}
# The one move back: an amendment that voids a sign-off returns the campaign to planning.
REOPENABLE = frozenset({S.planning, S.signed, S.ready})
# Once live, the plan and its dates are history: the report compares against them.
CLOSED_FOR_CHANGES = frozenset({S.live, S.reporting, S.reported, S.rejected})
del S


class StatusError(ValueError):
    """A status move the campaign's process does not allow."""


def _passed(status: CampaignStatus) -> frozenset[CampaignStatus]:
    """Every status a campaign in `status` has already left behind (walking the moves back)."""
    before: set[CampaignStatus] = set()
    frontier = {status}
    while frontier:
        frontier = {s for s, moves in STATUS_MOVES.items() if moves & frontier} - before
        before |= frontier
    return frozenset(before)


def status_move(current: CampaignStatus | str, target: CampaignStatus | str) -> bool:
    """Whether moving `current` to `target` changes anything: True for an allowed move,
    False when the campaign is there or past it already (a replayed run passes earlier
    stages again); a move the process does not have is refused."""
    current, target = CampaignStatus(current), CampaignStatus(target)
    if target in STATUS_MOVES[current]:
        return True
    if target == current or target in _passed(current):
        return False
    raise StatusError(f"a {current} campaign cannot become {target}")


def reopen(current: CampaignStatus | str) -> CampaignStatus:
    """The status after an amendment voided the sign-off: planning (refused once live)."""
    current = CampaignStatus(current)
    if current not in REOPENABLE:
        raise StatusError(f"a {current} campaign cannot go back to planning")
    return CampaignStatus.planning


# ---------------------------------------------------------------- the pipeline's stages


class Stage(StrEnum):
    plan_review = "plan_review"
    plan_revision = "plan_revision"
    signoff = "signoff"
    feasibility = "feasibility"
    ready = "ready"
    slots = "slots"
    build_test = "build_test"
    golive = "golive"
    kpi_actuals = "kpi_actuals"
    report = "report"
    reported = "reported"
    rejected = "rejected"


VOID = "void"  # what a gate voided under the run returns: the same stage, next round
DONE = "done"  # what a step returns


@dataclass(frozen=True)
class Move:
    """Where an outcome leads, and what taking it records: the campaign's new status and
    the milestones it marks done."""

    to: Stage
    status: CampaignStatus | None = None
    done: tuple[str, ...] = ()


@dataclass(frozen=True)
class Due:
    """A gate's due rule: by a milestone of the timeline, or in a number of working days
    (`quick`: the policy's gate days, `feasibility`: IT's days), whichever comes first."""

    milestone: str | None = None
    working_days: str | None = None  # "quick" or "feasibility"


@dataclass(frozen=True)
class StageSpec:
    """One stage: a gate (a person decides; `owner`, `title`, `kind`, `due`) or a step (the
    run does it), or the end (no moves)."""

    moves: Mapping[str, Move] = field(default_factory=dict)
    owner: Role | None = None
    title: str = ""
    kind: GateKind | None = None
    due: Due | None = None
    plan_bound: bool = False  # its form shows the plan; an answer binds that version
    # The timeline row the gate stands for: the gate and the row are due on the same day.
    milestone: str | None = None

    @property
    def is_gate(self) -> bool:
        return self.kind is not None

    @property
    def is_end(self) -> bool:
        return not self.moves


_QUICK = "quick"
_FEASIBILITY = "feasibility"
_review_moves = {
    "approve": Move(Stage.signoff, done=("plan_review",)),
    "revise": Move(Stage.plan_revision),
    "reject": Move(Stage.rejected, status=CampaignStatus.rejected),
}
# The 45-day process, in order. A "revise" anywhere goes back to the agency; "reject" ends it.
STAGES: dict[Stage, StageSpec] = {
    Stage.plan_review: StageSpec(
        owner=Role.campaign_manager,
        title="方案评审",
        kind=GateKind.approval,
        due=Due(milestone="signoff", working_days=_QUICK),
        plan_bound=True,
        milestone="plan_review",
        moves=_review_moves,
    ),
    Stage.plan_revision: StageSpec(
        owner=Role.agency,
        title="方案修改",
        kind=GateKind.submission,
        due=Due(working_days=_QUICK),
        moves={"submit": Move(Stage.plan_review)},
    ),
    Stage.signoff: StageSpec(
        owner=Role.campaign_manager,
        title="签字确认",
        kind=GateKind.approval,
        due=Due(milestone="signoff"),
        plan_bound=True,
        milestone="signoff",
        moves={
            **_review_moves,
            "approve": Move(Stage.feasibility, status=CampaignStatus.signed, done=("signoff",)),
        },
    ),
    Stage.feasibility: StageSpec(
        owner=Role.it,
        title="IT 可行性评估",
        kind=GateKind.feasibility,
        due=Due(working_days=_FEASIBILITY),
        milestone="feasibility",
        moves={
            "feasible": Move(Stage.ready, status=CampaignStatus.ready, done=("feasibility",)),
            "not_feasible": Move(Stage.plan_revision),
        },
    ),
    # The agency and IT may start; training, launch and the KPI request come from the sweep
    # by date, while the run waits for the slots, the build and the go-live below.
    Stage.ready: StageSpec(moves={DONE: Move(Stage.slots)}),
    Stage.slots: StageSpec(
        owner=Role.agency,
        title="平台资源位申请",
        kind=GateKind.record,
        due=Due(milestone="slots"),
        milestone="slots",
        moves={"recorded": Move(Stage.build_test, done=("slots",))},
    ),
    Stage.build_test: StageSpec(
        owner=Role.it,
        title="页面搭建与功能测试",
        kind=GateKind.confirmation,
        due=Due(milestone="build_test"),
        milestone="build_test",
        moves={"confirmed": Move(Stage.golive, done=("build_test",))},
    ),
    Stage.golive: StageSpec(
        owner=Role.agency,
        title="上架与页面上线",
        kind=GateKind.confirmation,
        due=Due(milestone="golive"),
        milestone="golive",
        moves={"confirmed": Move(Stage.kpi_actuals, done=("golive",))},
    ),
    Stage.kpi_actuals: StageSpec(
        owner=Role.agency,
        title="提交实际 KPI",
        kind=GateKind.submission,
        due=Due(milestone="report"),
        milestone="report",
        moves={"submit": Move(Stage.report)},
    ),
    Stage.report: StageSpec(
        moves={DONE: Move(Stage.reported, status=CampaignStatus.reported, done=("report",))}
    ),
    Stage.reported: StageSpec(),
    Stage.rejected: StageSpec(),
}
FIRST_STAGE = Stage.plan_review
FIRST_DONE = ("assessment",)  # the milestone a started campaign has behind it
PLAN_BOUND_GATES = tuple(s for s, spec in STAGES.items() if spec.plan_bound)
del _review_moves


class StageError(ValueError):
    """An outcome the stage does not have."""


def next_move(stage: Stage | str, outcome: str) -> Move:
    """Where `outcome` at `stage` leads. A void gate opens its next round (same stage); an
    outcome the stage does not have is refused."""
    stage = Stage(stage)
    spec = STAGES[stage]
    if outcome == VOID and spec.is_gate:
        return Move(stage)
    if outcome not in spec.moves:
        allowed = ", ".join(spec.moves) or "nothing (it is the end)"
        raise StageError(f"stage {stage} has no outcome {outcome!r}; it takes {allowed}")
    return spec.moves[outcome]


def stage_due(
    stage: Stage | str,
    *,
    today: date,
    milestone_due: Callable[[str], date],
    quick_working_days: int,
    feasibility_working_days: int,
) -> date:
    """The due date of the gate `stage` opened `today`, by its rule (before the floor of
    `gate_due`: never before the next working day)."""
    rule = STAGES[Stage(stage)].due
    if rule is None:
        raise StageError(f"stage {stage} is not a gate")
    days = {_QUICK: quick_working_days, _FEASIBILITY: feasibility_working_days}
    candidates = []
    if rule.milestone:
        candidates.append(milestone_due(rule.milestone))
    if rule.working_days:
        candidates.append(calendar.add_working_days(today, days[rule.working_days]))
    return min(candidates)


def gate_due(milestone_due: date, today: date) -> date:
    """A gate is due by its rule, or the next working day when that has passed."""
    return max(milestone_due, calendar.next_working_day(today + timedelta(1)))


@dataclass(frozen=True)
class Position:
    """Where a run stands in the pipeline: the stage and how many rounds each stage has had.
    A run replays from the top, so the rounds follow from the outcomes in order."""

    stage: Stage = FIRST_STAGE
    rounds: Mapping[Stage, int] = field(default_factory=lambda: {FIRST_STAGE: 1})

    @property
    def round(self) -> int:
        return self.rounds.get(self.stage, 0)

    @property
    def spec(self) -> StageSpec:
        return STAGES[self.stage]

    def after(self, move: Move) -> Position:
        rounds = dict(self.rounds)
        rounds[move.to] = rounds.get(move.to, 0) + 1
        return Position(move.to, rounds)


# ---------------------------------------------------------------- live KPIs


def elapsed_share(launch: date, end: date, day: date) -> float:
    """How much of the campaign has run by the end of `day` (0 before L, 1 from the end)."""
    total = (end - launch).days + 1
    return min(max((day - launch).days + 1, 0), total) / total


@dataclass(frozen=True)
class KpiPace:
    """A KPI on `day`: its figure to date against the share of the target due by then."""

    name: str
    unit: str
    target: float
    actual: float | None
    expected: float
    tolerance: float

    @property
    def behind(self) -> bool:
        """Behind pace: actual < target × elapsed share × tolerance (no figure yet: not
        judged)."""
        return self.actual is not None and self.actual < self.expected * self.tolerance

    @property
    def attainment(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return round(self.actual / self.target * 100, 1)


def kpi_paces(
    kpis: list[dict],
    actuals: Mapping[str, float],
    *,
    launch: date,
    end: date,
    day: date,
    tolerance: float,
) -> list[KpiPace]:
    """Each KPI of the plan on `day`, by its latest figure to date (cumulative)."""
    share = elapsed_share(launch, end, day)
    return [
        KpiPace(
            k["name"],
            k.get("unit") or "",
            float(k["target"]),
            actuals.get(k["name"]),
            round(float(k["target"]) * share, 2),
            tolerance,
        )
        for k in kpis
    ]


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A daily series as text, lowest ▁ to highest █."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(
        SPARKS[round((v - low) / span * (len(SPARKS) - 1)) if span else 0] for v in values
    )
