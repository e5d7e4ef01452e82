"""Disputes (纠纷) and emergencies (突发事件), DOMAIN 11: pure rules.

Who may act, the deadlines (working days, Asia/Shanghai) and the escalation ladder of an
overdue step: level 1 at its due date tells HQ (campaign managers), level 2 some working days
later tells legal. Each level once (the store's unique key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from domain import calendar
from domain.permissions import Actor, role_refusal

DISPUTE_KINDS = ("customer_dealer", "customer_outlet", "dealer_outlet")
INCIDENT_KINDS = ("accident", "fire", "storm", "power_loss", "complaint_storm")
MEDIATION_STEPS = ("meeting", "proposal")

FILE_ROLES = ("dealer", "call_agent", "call_supervisor", "campaign_manager", "legal")
HQ_ROLES = ("campaign_manager", "legal")
REPORT_ROLES = (
    "club_admin",
    "regional_specialist",
    "campaign_manager",
    "dealer",
    "call_agent",
    "legal",
)
HANDLE_ROLES = ("regional_specialist", "campaign_manager", "legal")

# What each dispute action needs, and the statuses it may start from.
DISPUTE_ACTIONS = {
    "file": (FILE_ROLES, ()),
    "acknowledge": (HQ_ROLES, ("filed",)),
    "mediate": (HQ_ROLES, ("mediating",)),
    "settle": (HQ_ROLES, ("mediating",)),
    "litigate": (HQ_ROLES, ("mediating",)),
}
NEXT_STATUS = {"acknowledge": "mediating", "settle": "settled", "litigate": "litigation"}


def dispute_refusal(
    actor: Actor | None, *, username: str, action: str, status: str | None
) -> str | None:
    """Why `actor` may not take `action` on a dispute in `status` (None: they may)."""
    roles, statuses = DISPUTE_ACTIONS[action]
    problem = role_refusal(actor, username=username, roles=roles, action=f"dispute {action}")
    if problem:
        return problem
    if statuses and status not in statuses:
        return f"the dispute is {status}; {action} needs it {' or '.join(statuses)}"
    return None


def incident_refusal(
    actor: Actor | None, *, username: str, action: str, status: str | None
) -> str | None:
    roles = REPORT_ROLES if action == "report" else HANDLE_ROLES
    problem = role_refusal(actor, username=username, roles=roles, action=f"incident {action}")
    if problem:
        return problem
    if action in ("act", "close") and status != "open":
        return f"the incident is {status}; {action} needs it open"
    return None


def close_problems(*, recovery: str, lessons: str) -> list[tuple[str, str]]:
    """An incident closes only with its recovery and the lessons learned."""
    problems = []
    if not recovery.strip():
        problems.append(("recovery", "required to close"))
    if not lessons.strip():
        problems.append(("lessons", "a lessons-learned summary is required to close"))
    return problems


def due_after(moment: datetime, working_days: int) -> datetime:
    """End of the business day `working_days` working days after `moment` (Asia/Shanghai)."""
    day = calendar.add_working_days(calendar.business_date(moment), working_days)
    return datetime.combine(day, time(23, 59), tzinfo=calendar.BUSINESS_TZ)


@dataclass(frozen=True)
class Overdue:
    step: str  # acknowledge / resolve
    level: int
    recipient: str


def overdue_levels(
    *,
    status: str,
    ack_due_at: datetime,
    resolve_due_at: datetime | None,
    now: datetime,
    level2_after_working_days: int,
) -> list[Overdue]:
    """Every level the dispute's open step has reached at `now` (the caller stores each once)."""
    if status == "filed":
        step, due = "acknowledge", ack_due_at
    elif status == "mediating" and resolve_due_at is not None:
        step, due = "resolve", resolve_due_at
    else:
        return []
    if now <= due:
        return []
    levels = [Overdue(step, 1, "role:campaign_manager")]
    level2 = due_after(due, level2_after_working_days)
    if now > level2:
        levels.append(Overdue(step, 2, "role:legal"))
    return levels


def code_for(prefix: str, day: date, n: int) -> str:
    return f"{prefix}-{day:%Y%m%d}-{n:03d}"
