"""Gates: who may decide a human decision point, what they may answer, and when an overdue
gate reminds its owner and then escalates (DOMAIN §4 "Overdue gates escalate").

Pure rules: no Prefect, no database. Dates and policy numbers are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain import calendar


class GateKind(StrEnum):
    """What kind of answer a gate takes; each kind has its own outcomes."""

    approval = "approval"  # plan review, sign-off, activity review
    feasibility = "feasibility"  # IT's answer on a campaign's pages and features
    submission = "submission"  # someone hands in a thing: a revised plan, KPI figures


OUTCOMES: dict[GateKind, tuple[str, ...]] = {
    GateKind.approval: ("approve", "revise", "reject"),
    GateKind.feasibility: ("feasible", "not_feasible"),
    GateKind.submission: ("submit",),
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
