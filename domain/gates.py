"""Gates: who may decide a human decision point, what they may answer, and when an overdue
gate reminds its owner and then escalates; and the values flows, tasks and the CLI exchange
about gates (GateSpec in, GateView / DecisionResult / InboxItem out).

Pure rules: no Prefect, no database session. Dates and policy numbers are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from domain import calendar
from domain.models import GateStatus, Role

if TYPE_CHECKING:
    from domain.models import Gate


class GateKind(StrEnum):
    """What kind of answer a gate takes; each kind has its own outcomes."""

    approval = "approval"  # plan review, sign-off, activity review
    feasibility = "feasibility"  # IT's answer on a campaign's pages and features
    submission = "submission"  # someone hands in a thing: a revised plan, KPI figures
    confirmation = "confirmation"  # someone confirms a thing is done: pages built, live
    record = "record"  # someone records what happened: the platform slots granted


OUTCOMES: dict[GateKind, tuple[str, ...]] = {
    GateKind.approval: ("approve", "revise", "reject"),
    GateKind.feasibility: ("feasible", "not_feasible"),
    GateKind.submission: ("submit",),
    GateKind.confirmation: ("confirmed",),
    GateKind.record: ("recorded",),
}


class Level(StrEnum):
    """The reminder → escalation ladder of an overdue gate; each level is sent once."""

    reminder = "reminder"
    escalation = "escalation"


class OutcomeError(ValueError):
    """An outcome the gate does not take; the message lists the ones it does."""


def normalise_outcome(kind: GateKind | str, outcome: str) -> str:
    """`not-feasible` and `Not_Feasible` both mean `not_feasible`; anything else is refused."""
    kind = GateKind(kind)
    value = outcome.strip().lower().replace("-", "_")
    if value not in OUTCOMES[kind]:
        allowed = ", ".join(OUTCOMES[kind])
        raise OutcomeError(f"outcome {outcome!r} is not one of {allowed} ({kind} gate)")
    return value


@dataclass(frozen=True)
class Decider:
    """The person named in a decision (Prefect does not record who resumed a run)."""

    username: str
    role: str
    region_code: str | None = None
    active: bool = True


def refusal_reason(
    decider: Decider | None, *, owner_role: str, owner_region: str | None, username: str = ""
) -> str | None:
    """Why `decider` may not decide a gate owned by `owner_role` (in `owner_region`), or None.

    A regional gate (owner_region set) is decided only by that region's person of the role.
    """
    if decider is None:
        return f"unknown user {username!r}"
    if not decider.active:
        return f"user {decider.username!r} is not active"
    if str(decider.role) != str(owner_role):
        return f"user {decider.username!r} is {decider.role}, this gate needs {owner_role}"
    if owner_region and decider.region_code != owner_region:
        return (
            f"user {decider.username!r} is {decider.role} of {decider.region_code or 'no region'}, "
            f"this gate needs {owner_region}"
        )
    return None


def escalation_date(due_on: date, *, escalate_after_working_days: int) -> date:
    """The day an unanswered gate goes to the escalation recipient."""
    return calendar.add_working_days(due_on, escalate_after_working_days)


def levels_due(
    *,
    due_on: date,
    today: date,
    reminded: bool,
    escalated: bool,
    escalate_after_working_days: int,
) -> list[Level]:
    """The ladder levels an open gate owes today: a reminder from its due date on, an
    escalation from `escalate_after_working_days` working days after it; each only once."""
    levels: list[Level] = []
    if today >= due_on and not reminded:
        levels.append(Level.reminder)
    if not escalated and today >= escalation_date(
        due_on, escalate_after_working_days=escalate_after_working_days
    ):
        levels.append(Level.escalation)
    return levels


def owner_recipient(owner_role: str, owner_region: str | None) -> str:
    """The outbox recipient of a gate's owner: the role, narrowed to its region if regional."""
    return f"role:{owner_role}:{owner_region}" if owner_region else f"role:{owner_role}"


# ---------------------------------------------------------------- how a gate's status moves

GATE_MOVES: dict[GateStatus, frozenset[GateStatus]] = {
    GateStatus.open: frozenset({GateStatus.decided, GateStatus.void}),
    # A decided sign-off is voided when the plan it signed changes.
    GateStatus.decided: frozenset({GateStatus.void}),
    GateStatus.void: frozenset(),
}


class GateMoveError(ValueError):
    """A status change the gate table does not allow."""


def check_gate_move(current: GateStatus | str, new: GateStatus | str) -> GateStatus:
    """`new` if a gate in `current` may move there; GateMoveError otherwise."""
    current, new = GateStatus(current), GateStatus(new)
    if new not in GATE_MOVES[current]:
        raise GateMoveError(f"a {current} gate cannot become {new}")
    return new


# ---------------------------------------------------------------- values


class GateSpec(BaseModel):
    """What a flow asks for when it reaches a gate. (subject, key, round) names the gate:
    opening it again (a re-run) returns the same row."""

    subject_type: str  # campaign / activity / claim / quarter_plan
    subject_id: int
    subject_code: str
    subject_title: str = ""
    key: str  # plan_review / signoff / feasibility / specialist_review / ...
    round: int = 1
    title: str
    kind: GateKind = GateKind.approval
    owner_role: Role
    owner_region: str | None = None
    due_on: date
    plan_version: int | None = None
    escalate_to: str = "role:campaign_manager"

    @property
    def label(self) -> str:
        return f"{self.subject_type}:{self.subject_code} {self.key} r{self.round}"


class GateView(BaseModel):
    """A gate as flows and the CLI see it (no session attached)."""

    id: int
    subject_type: str
    subject_id: int
    subject_code: str
    subject_title: str
    key: str
    round: int
    title: str
    kind: str
    status: GateStatus
    owner_role: str
    owner_region: str | None
    due_on: date
    outcome: str | None = None
    flow_run_id: str | None = None
    plan_version: int | None = None
    process_version: str | None = None
    artifact_id: str | None = None

    @classmethod
    def of(cls, gate: Gate) -> GateView:
        return cls.model_validate(gate, from_attributes=True)

    @property
    def owner(self) -> str:
        return owner_recipient(self.owner_role, self.owner_region)

    @property
    def label(self) -> str:
        return f"{self.subject_type}:{self.subject_code} {self.key} r{self.round}"


class DecisionResult(BaseModel):
    """What happened to one decision: accepted (the gate is decided) or refused (it waits)."""

    gate_id: int
    accepted: bool
    outcome: str
    decider: str
    comment: str = ""
    reason: str | None = None  # why it was refused
    gate_status: GateStatus
    payload: dict[str, Any] = Field(default_factory=dict)
    decision_id: int | None = None
    replayed: bool = False  # the input was recorded before: nothing new was written


class RefusedAnswer(BaseModel):
    """An answer the gate refused: shown above its form the next time it waits."""

    decider: str
    at: datetime
    reason: str


def refusals_note(refused: list[RefusedAnswer]) -> str:
    """Markdown for the top of a gate's form: who was refused, when (Beijing time), why."""
    if not refused:
        return ""
    from domain.privacy import mask_text

    lines = "".join(
        f"\n- {r.at.astimezone(calendar.BUSINESS_TZ):%Y-%m-%d %H:%M} 以 `{r.decider}` 的名义："
        f"{mask_text(r.reason)}"
        for r in refused
    )
    return f"\n\n**上次的决定未被接受**（最新在前）：{lines}"


class InboxItem(BaseModel):
    """One thing waiting on a person (gates here; other areas add claims, leads...)."""

    kind: str
    subject: str
    title: str
    due_on: date | None
    overdue: bool
    command: str = ""  # how to act on it
    link: str = ""  # its task page in the portal (a path, e.g. /gates/12)


class GateReached(BaseModel):
    """What a flow finds at a gate: the gate and its accepted decision (None while it waits
    or when void), or `conflict` when a replay under changed code may not open it."""

    gate: GateView | None = None
    decision: DecisionResult | None = None
    conflict: str | None = None


# ---------------------------------------------------------------- replays under changed code


@dataclass(frozen=True)
class RecordedGate:
    """One gate a run opened, in the order it opened them, and the code version that did."""

    id: int
    label: str
    process_version: str | None


def replay_conflict(
    *,
    recorded: list[RecordedGate],
    met: list[int],
    asked: str,
    asked_id: int | None,
    version: str,
) -> str | None:
    """Why a replaying run may not go on to the gate `asked`, or None.

    A suspended run resumes by replaying its flow from the top. While every gate it opened
    was opened by the code's `version`, nothing is checked. Otherwise the replay must meet the
    gates it opened (`recorded`, in order) in the same order: `met` are those it met so far in
    this replay, `asked_id` the row of `asked` when it is one of this run's gates. Past the end
    of the recorded path the new code goes on freely (the change is after where it waited).
    """
    if all(g.process_version == version for g in recorded):
        return None
    if asked_id is not None and asked_id in met:
        return None  # the same gate again (a refused answer, a decision meanwhile)
    position = len(met)
    if position >= len(recorded):
        return None
    expected = recorded[position]
    if expected.id == asked_id:
        return None
    old = expected.process_version or "a version from before versions were recorded"
    return (
        f"it waited under {old} and the code is now {version}: as gate {position + 1} of the "
        f"run the new code asks for {asked}, which the run never opened at that point (it "
        f"opened {expected.label} there). Finish this run with {old} (serve that code and "
        "retry the run), or void its open gates and start the flow again"
    )


@dataclass
class RunReplay:
    """A run's gates as an execution finds them when it starts: the gates it opened, in
    order, and the decided ones by label (with their accepted decisions)."""

    recorded: list[RecordedGate]
    decided: dict[str, GateReached]

    def decided_gate(self, asked: GateSpec, *, met: list[int], version: str) -> GateReached | None:
        """The decided gate `asked` when the replay may return it as it was read: decided at
        the start of this execution, on the run's recorded path (None: ask the store)."""
        reached = self.decided.get(asked.label)
        if reached is None or reached.gate is None:
            return None
        changed = not all(g.process_version == version for g in self.recorded)
        if changed and len(met) >= len(self.recorded):
            return None  # past the recorded path under changed code: the store decides
        conflict = replay_conflict(
            recorded=self.recorded,
            met=met,
            asked=asked.label,
            asked_id=reached.gate.id,
            version=version,
        )
        return None if conflict else reached
