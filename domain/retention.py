"""Retention rules: lost members' call-backs and sleeping members' monthly offers.

- A call-back follows the leads' call machinery (domain/leads_outcomes.py): calls 1 and 2 on
  the call day, call 3 the next day, the same outcome vocabulary and the same after-call-3
  closing rules. A connected call (有意/无意) closes it valid and must name the churn reason.
- Offers: at most `cap` offers per member within `window_months` months (ours).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from domain.leads_outcomes import (
    CONNECTED,
    LeadState,
    Outcome,
    OutcomeRejected,
    Transition,
    apply_outcome,
)
from domain.leads_plan import CallPlan


class ChurnReason(StrEnum):
    """Why a lost member left (the list is ours)."""

    price = "price"
    service = "service"
    distance = "distance"
    changed_car = "changed_car"
    moved = "moved"
    few_activities = "few_activities"
    other = "other"


CHURN_LABELS: dict[ChurnReason, str] = {
    ChurnReason.price: "价格",
    ChurnReason.service: "服务",
    ChurnReason.distance: "距离",
    ChurnReason.changed_car: "换车",
    ChurnReason.moved: "搬迁",
    ChurnReason.few_activities: "活动少",
    ChurnReason.other: "其他",
}
_BY_TEXT = {**{r.value: r for r in ChurnReason}, **{v: k for k, v in CHURN_LABELS.items()}}


def parse_churn_reason(text: str | None) -> ChurnReason | None:
    """A churn reason from its code (price) or label (价格); None for empty text."""
    key = (text or "").strip()
    if not key:
        return None
    found = _BY_TEXT.get(key) or _BY_TEXT.get(key.lower())
    if found is None:
        raise OutcomeRejected(f"unknown churn reason {text!r} (未知流失原因)")
    return found


def apply_callback_outcome(
    *,
    status: str,
    next_call_no: int,
    plan: CallPlan,
    call_no: int,
    outcome: Outcome,
    called_at: datetime,
    churn_reason: ChurnReason | None,
    appointment_at: datetime | None = None,
) -> Transition:
    """The call-back after one call, or OutcomeRejected with the reason."""
    if outcome in CONNECTED and churn_reason is None:
        raise OutcomeRejected("a connected call-back needs the churn reason (缺少流失原因)")
    if outcome not in CONNECTED and churn_reason is not None:
        raise OutcomeRejected("a churn reason is recorded only when connected (未接通无流失原因)")
    state = LeadState(status=status, next_call_no=next_call_no, plan=plan)
    return apply_outcome(
        state,
        call_no=call_no,
        outcome=outcome,
        called_at=called_at,
        appointment_at=appointment_at,
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_back(month: date, n: int) -> date:
    """The first day of the month `n` months before `month`."""
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def offer_refusal(
    offer_months: list[date], *, month: date, cap: int, window_months: int
) -> str | None:
    """Why a member may not get this month's offer: already offered this month, or `cap`
    offers within the last `window_months` months (this one included); None if allowed."""
    month = month_start(month)
    if month in offer_months:
        return "already offered this month"
    since = months_back(month, window_months - 1)
    recent = [m for m in offer_months if since <= m <= month]
    if len(recent) >= cap:
        return f"{len(recent)} offers within {window_months} months (cap {cap})"
    return None


def callback_refusal(actor, *, username: str, assigned_to: str | None) -> str | None:
    """Only the agent the call-back is assigned to, or a call supervisor, records its calls."""
    from domain.permissions import role_refusal

    problem = role_refusal(
        actor,
        username=username,
        roles=("call_agent", "call_supervisor"),
        action="recording a member call-back",
    )
    if problem:
        return problem
    if actor.role == "call_agent" and actor.username != assigned_to:
        return f"call-back is assigned to {assigned_to or 'nobody'}, not {actor.username}"
    return None
