"""The subsidy rules engine (补贴申报): pure, line by line.

For each claimed line it proposes approve / reduce (to a cap) / reject, with the reason.
The policy (caps per class and category, per-participant caps for materials, allowed
categories, the class total cap) is configuration: `Settings.subsidy_policy`.

Hard rules the specialist cannot override (`check_decision` refuses them): a line without
evidence, an unknown category or one not allowed for the class, any line of a claim without a
recap, and a decided total above the class cap. A line decided above the engine's proposal
(e.g. above a category cap) needs a written comment: nothing is approved silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

CategoryKind = Literal["materials", "costs"]
Action = Literal["approve", "reduce", "reject"]

# Rule codes stored with each line; HARD ones can never be approved.
NO_RECAP = "no_recap"
UNKNOWN_CATEGORY = "unknown_category"
CATEGORY_NOT_ALLOWED = "category_not_allowed"
NOT_POSITIVE = "not_positive"
NO_EVIDENCE = "no_evidence"
CATEGORY_CAP = "category_cap"
PER_PARTICIPANT_CAP = "per_participant_cap"
CLASS_TOTAL_CAP = "class_total_cap"
WITHIN_CAPS = "within_caps"
HARD_RULES = frozenset(
    {NO_RECAP, UNKNOWN_CATEGORY, CATEGORY_NOT_ALLOWED, NOT_POSITIVE, NO_EVIDENCE}
)


class Category(BaseModel):
    kind: CategoryKind
    label_zh: str


class ClassPolicy(BaseModel):
    """What one activity class may claim. A category missing from `caps` is not allowed."""

    total_cap: float = Field(ge=0, description="Most a claim of this class can be paid (yuan)")
    caps: dict[str, float] = Field(default_factory=dict, description="Cap per category (yuan)")
    per_participant_caps: dict[str, float] = Field(
        default_factory=dict,
        description="Materials: cap per checked-in participant (yuan), on top of the category cap",
    )

    @model_validator(mode="after")
    def _per_participant_only_for_allowed(self) -> ClassPolicy:
        extra = sorted(set(self.per_participant_caps) - set(self.caps))
        if extra:
            raise ValueError(f"per_participant_caps for categories without a cap: {extra}")
        return self


DEFAULT_CATEGORIES: dict[str, dict] = {
    "stickers": {"kind": "materials", "label_zh": "车贴及号牌"},
    "tshirts": {"kind": "materials", "label_zh": "俱乐部T恤"},
    "flags": {"kind": "materials", "label_zh": "队旗"},
    "venue": {"kind": "costs", "label_zh": "场地费"},
    "tolls": {"kind": "costs", "label_zh": "跨省路桥费"},
    "insurance": {"kind": "costs", "label_zh": "户外保险"},
    "rescue": {"kind": "costs", "label_zh": "救援费"},
    "race_registration": {"kind": "costs", "label_zh": "赛事报名费"},
}

# *default* policy: A runs on HQ resources, D on the club's own, E has none;
# B gets HQ subsidy, C subsidy on approval.
DEFAULT_CLASSES: dict[str, dict] = {
    "A": {"total_cap": 0},
    "B": {
        "total_cap": 30000,
        "caps": {
            "stickers": 3000,
            "tshirts": 6000,
            "flags": 1000,
            "venue": 8000,
            "tolls": 6000,
            "insurance": 3000,
            "rescue": 5000,
            "race_registration": 5000,
        },
        "per_participant_caps": {"stickers": 30, "tshirts": 80, "flags": 10},
    },
    "C": {
        "total_cap": 8000,
        "caps": {
            "stickers": 1000,
            "tshirts": 2400,
            "flags": 300,
            "venue": 2000,
            "tolls": 2000,
            "insurance": 1000,
            "rescue": 2000,
        },
        "per_participant_caps": {"stickers": 20, "tshirts": 60, "flags": 10},
    },
    "D": {"total_cap": 0},
    "E": {"total_cap": 0},
}


class SubsidyPolicy(BaseModel):
    """Subsidy policy (override with CLUBFLOW_SUBSIDY_POLICY='{"classes": {...}}')."""

    categories: dict[str, Category] = Field(
        default_factory=lambda: {k: Category(**v) for k, v in DEFAULT_CATEGORIES.items()}
    )
    classes: dict[str, ClassPolicy] = Field(
        default_factory=lambda: {k: ClassPolicy(**v) for k, v in DEFAULT_CLASSES.items()}
    )

    @field_validator("classes", mode="before")
    @classmethod
    def _keep_default_classes(cls, value: dict) -> dict:
        # An override names the classes it changes; the others keep their defaults.
        return {**DEFAULT_CLASSES, **(value or {})}

    @model_validator(mode="after")
    def _consistent(self) -> SubsidyPolicy:
        missing = sorted(set("ABCDE") - set(self.classes))
        if missing:
            raise ValueError(f"subsidy policy lacks classes {missing}")
        for klass, rules in self.classes.items():
            unknown = sorted(set(rules.caps) - set(self.categories))
            if unknown:
                raise ValueError(f"class {klass}: caps for unknown categories {unknown}")
        return self


@dataclass(frozen=True)
class ClaimLine:
    line_no: int
    category: str
    amount: float
    evidence: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class LineProposal:
    line_no: int
    category: str
    requested: float
    action: Action
    amount: float
    rule: str
    reason: str

    @property
    def hard(self) -> bool:
        return self.rule in HARD_RULES


@dataclass(frozen=True)
class ClaimProposal:
    activity_class: str
    participants: int
    total_cap: float
    lines: tuple[LineProposal, ...]

    @property
    def total_requested(self) -> float:
        return _money(sum(line.requested for line in self.lines))

    @property
    def total_proposed(self) -> float:
        return _money(sum(line.amount for line in self.lines))


def _money(value: float) -> float:
    return round(float(value) + 0.0, 2)


def category_cap(
    policy: SubsidyPolicy, activity_class: str, category: str, participants: int
) -> tuple[float, str] | None:
    """The effective cap of a category for a class and head count, and which rule sets it."""
    rules = policy.classes[activity_class]
    if category not in rules.caps:
        return None
    cap, rule = rules.caps[category], CATEGORY_CAP
    per_head = rules.per_participant_caps.get(category)
    if per_head is not None and per_head * participants < cap:
        cap, rule = per_head * participants, PER_PARTICIPANT_CAP
    return _money(cap), rule


def propose(
    lines: Iterable[ClaimLine],
    *,
    activity_class: str,
    participants: int,
    recap_filed: bool,
    policy: SubsidyPolicy,
) -> ClaimProposal:
    """The engine's proposal, line by line in line order (earlier lines use caps first)."""
    rules = policy.classes[activity_class]
    used_by_category: dict[str, float] = defaultdict(float)
    used_total = 0.0
    out: list[LineProposal] = []

    for line in sorted(lines, key=lambda x: x.line_no):
        requested = _money(line.amount)

        def reject(rule: str, reason: str, line=line, requested=requested) -> LineProposal:
            return LineProposal(line.line_no, line.category, requested, "reject", 0.0, rule, reason)

        if not recap_filed:
            out.append(reject(NO_RECAP, "no recap filed for the activity"))
            continue
        if line.category not in policy.categories:
            out.append(reject(UNKNOWN_CATEGORY, f"unknown category {line.category!r}"))
            continue
        cap_info = category_cap(policy, activity_class, line.category, participants)
        if cap_info is None:
            out.append(
                reject(
                    CATEGORY_NOT_ALLOWED,
                    f"category {line.category} is not subsidised for class {activity_class}",
                )
            )
            continue
        if requested <= 0:
            out.append(reject(NOT_POSITIVE, f"amount {requested} is not positive"))
            continue
        if not [e for e in line.evidence if str(e).strip()]:
            out.append(reject(NO_EVIDENCE, "no evidence (receipt/invoice reference) given"))
            continue

        cap, cap_rule = cap_info
        left_in_category = _money(cap - used_by_category[line.category])
        left_in_total = _money(rules.total_cap - used_total)
        amount, rule, reason = requested, WITHIN_CAPS, "within caps"
        if amount > left_in_category:
            amount, rule = left_in_category, cap_rule
            if cap_rule == PER_PARTICIPANT_CAP:
                per_head = rules.per_participant_caps[line.category]
                reason = (
                    f"{line.category} capped at {per_head:g}/participant × {participants}"
                    f" = {cap:g}; {left_in_category:g} left"
                )
            else:
                reason = f"{line.category} capped at {cap:g} for class {activity_class}; "
                reason += f"{left_in_category:g} left"
        if amount > left_in_total:
            amount, rule = left_in_total, CLASS_TOTAL_CAP
            reason = f"class {activity_class} total cap {rules.total_cap:g}; {left_in_total:g} left"
        amount = _money(max(amount, 0.0))
        if amount <= 0:
            out.append(reject(rule, reason))
            continue
        action: Action = "approve" if amount == requested else "reduce"
        out.append(
            LineProposal(line.line_no, line.category, requested, action, amount, rule, reason)
        )
        used_by_category[line.category] += amount
        used_total += amount
    return ClaimProposal(activity_class, participants, _money(rules.total_cap), tuple(out))


@dataclass(frozen=True)
class LineDecision:
    line_no: int
    amount: float
    comment: str = ""


def check_decision(proposal: ClaimProposal, decisions: Iterable[LineDecision]) -> list[str]:
    """Why the specialist's line-by-line decision cannot be accepted (empty: it can).

    Lines not decided explicitly take the engine's proposed amount.
    """
    by_line = {p.line_no: p for p in proposal.lines}
    problems: list[str] = []
    decided: dict[int, float] = {p.line_no: p.amount for p in proposal.lines}
    for d in decisions:
        p = by_line.get(d.line_no)
        if p is None:
            problems.append(f"line {d.line_no}: no such line in the claim")
            continue
        amount = _money(d.amount)
        if amount < 0 or amount > p.requested:
            problems.append(f"line {d.line_no}: amount {amount:g} is outside 0…{p.requested:g}")
        elif p.hard and amount > 0:
            problems.append(f"line {d.line_no}: cannot be approved ({p.reason})")
        elif amount > p.amount and not d.comment.strip():
            problems.append(
                f"line {d.line_no}: {amount:g} is above the proposed {p.amount:g} ({p.reason}); "
                "a comment is required"
            )
        decided[d.line_no] = amount
    total = _money(sum(decided.values()))
    if total > proposal.total_cap:
        problems.append(
            f"total {total:g} is above the class {proposal.activity_class} cap "
            f"{proposal.total_cap:g}"
        )
    return problems


def decided_amounts(proposal: ClaimProposal, decisions: Iterable[LineDecision]) -> dict[int, float]:
    out = {p.line_no: p.amount for p in proposal.lines}
    for d in decisions:
        out[d.line_no] = _money(d.amount)
    return out


# ---------------------------------------------------------------- inputs


class ClaimLineInput(BaseModel):
    category: str = Field(description="stickers, tshirts, flags, venue, tolls, insurance, ...")
    amount: float = Field(description="Yuan")
    evidence: list[str] = Field(default_factory=list, description="Receipt/invoice references")
    description: str = ""


class ClaimInput(BaseModel):
    """A subsidy claim as the club files it (the UI renders it as a form)."""

    submitted_by: str = Field(description="Username of the club admin")
    lines: list[ClaimLineInput] = Field(min_length=1)


class LineDecisionInput(BaseModel):
    line_no: int
    amount: float = Field(ge=0, description="Yuan approved for this line")
    comment: str = Field("", description="Required above the engine's proposal")


# ---------------------------------------------------------------- claim statuses


class ClaimStatus(StrEnum):
    submitted = "submitted"  # filed with the engine's proposal, waiting for the specialist
    decided = "decided"  # amounts approved line by line (a rejection approves 0)
    paid = "paid"


CLAIM_MOVES: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.submitted: frozenset({ClaimStatus.decided}),
    ClaimStatus.decided: frozenset({ClaimStatus.paid}),
}


class ClaimMoveRefused(ValueError):
    """A claim status change the table of moves does not allow."""


def move_claim(current: str, to: ClaimStatus) -> ClaimStatus:
    """The new status `to`, or a refusal naming both when `current` may not move there."""
    if to not in CLAIM_MOVES.get(ClaimStatus(current), frozenset()):
        raise ClaimMoveRefused(f"a claim that is {current} cannot become {to}")
    return to
