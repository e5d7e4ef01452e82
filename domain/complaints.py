"""Complaints and feedback (受理 → 处理 → 反馈), and the satisfaction sample after an activity.

Pure rules: the stage machine, who may move a complaint, each stage's due date (working days
from the business date the complaint arrived; after-sales issues are contacted the same day),
which escalation level a late stage has reached, and which participants get a satisfaction
call (a seeded sample, so a re-run picks the same people).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.calendar import add_working_days, business_date, next_working_day
from domain.permissions import Actor, role_refusal


class ComplaintStatus(StrEnum):
    filed = "filed"  # arrived, not yet received (受理)
    received = "received"  # classified, waiting for a handler's actions (处理)
    handled = "handled"  # handled, the answer not yet sent (反馈)
    answered = "answered"  # answered, waiting for the member's confirmation
    closed = "closed"


SOURCES = ("member", "call", "dealer")
CATEGORIES = ("after_sales", "product", "activity", "points", "service", "other")
SEVERITIES = ("low", "medium", "high")
CATEGORY_ZH = {
    "after_sales": "售后",
    "product": "产品",
    "activity": "活动",
    "points": "积分",
    "service": "服务",
    "other": "其他",
}
SEVERITY_ZH = {"low": "一般", "medium": "较重", "high": "严重"}
SOURCE_ZH = {"member": "会员", "call": "来电", "dealer": "经销商"}

# The stage that is due while a complaint is in a status, and the status it moves to.
STAGE_OF = {
    ComplaintStatus.filed: "receive",
    ComplaintStatus.received: "handle",
    ComplaintStatus.handled: "answer",
}
NEXT = {
    "receive": ComplaintStatus.received,
    "handle": ComplaintStatus.handled,
    "answer": ComplaintStatus.answered,
    "close": ComplaintStatus.closed,
}
# HQ's call centre receives and supervises; handlers are the call agents or regional staff.
ROLES = {
    "receive": ("call_agent", "call_supervisor", "campaign_manager"),
    "handle": ("call_agent", "call_supervisor", "regional_specialist", "campaign_manager"),
    "answer": ("call_agent", "call_supervisor", "campaign_manager"),
    "file": ("call_agent", "call_supervisor", "dealer", "campaign_manager"),
}


class ComplaintError(ValueError):
    pass


@dataclass(frozen=True)
class Deadlines:
    """Working days after the arrival's business date for each stage (0 = the same day)."""

    receive_days: int
    handle_days: int
    answer_days: int
    after_sales_contact_days: int = 0  # DOMAIN 12: the service team calls the same day


def due_dates(arrived_at: datetime, category: str | None, d: Deadlines) -> dict[str, date]:
    """Each stage's due date. A complaint arriving on a rest day counts from the next working
    day; an after-sales one must be received (the customer contacted) the same working day."""
    start = next_working_day(business_date(arrived_at))
    receive = d.after_sales_contact_days if category == "after_sales" else d.receive_days
    return {
        "receive": add_working_days(start, receive),
        "handle": add_working_days(start, d.handle_days),
        "answer": add_working_days(start, d.answer_days),
    }


def transition_refusal(
    actor: Actor | None,
    *,
    username: str,
    action: str,
    status: str,
    handler: str | None = None,
) -> str | None:
    """Why `actor` may not take `action` (receive / handle / answer) on a complaint in
    `status`, or None. Once assigned, only the handler or a supervisor records handling."""
    want = {"receive": "filed", "handle": "received", "answer": "handled"}[action]
    problem = role_refusal(actor, username=username, roles=ROLES[action], action=action)
    if problem:
        return problem
    if status != want:
        return f"complaint is {status}; {action} needs {want}"
    supervises = actor.role in ("call_supervisor", "campaign_manager")
    if action == "handle" and handler and actor.username != handler and not supervises:
        return f"complaint is assigned to {handler}, not {actor.username}"
    return None


def confirm_refusal(*, member_no: str, complainant: str | None, status: str) -> str | None:
    """Only the member who complained confirms, and only an answered complaint."""
    if complainant != member_no:
        return f"member {member_no} did not file this complaint"
    if status != "answered":
        return f"complaint is {status}; confirming needs answered"
    return None


def escalation_level(due_on: date, today: date, *, second_after_days: int) -> int:
    """0 while on time; 1 (to the handler / receiving desk) from the first day past due; 2 (to
    the supervisor and HQ) once `second_after_days` working days more have passed."""
    if today <= due_on:
        return 0
    if today >= add_working_days(due_on, 1 + second_after_days):
        return 2
    return 1


def auto_close_due(answered_at: datetime, after_days: int) -> date:
    """An answered complaint without the member's reply closes on this business date."""
    return add_working_days(business_date(answered_at), after_days)


def validate_classification(category: str, severity: str) -> None:
    if category not in CATEGORIES:
        raise ComplaintError(f"category: {category!r} is not one of {', '.join(CATEGORIES)}")
    if severity not in SEVERITIES:
        raise ComplaintError(f"severity: {severity!r} is not one of {', '.join(SEVERITIES)}")


# ------------------------------------------------------------ satisfaction sample


def sample_size(n: int, *, share: float, minimum: int, maximum: int) -> int:
    """How many of `n` checked-in participants are called: share of them, at least `minimum`,
    at most `maximum`, never more than there are."""
    want = round(n * share)
    return max(0, min(n, max(minimum, min(maximum, want))))


def satisfaction_sample(
    activity_code: str, member_ids: list[int], *, share: float, minimum: int, maximum: int
) -> list[int]:
    """A random sample seeded by the activity's code: the same activity picks the same
    members however often it is run, in whatever order they come."""
    pool = sorted(set(member_ids))
    k = sample_size(len(pool), share=share, minimum=minimum, maximum=maximum)
    seed = int.from_bytes(hashlib.sha256(activity_code.encode()).digest()[:8], "big")
    return sorted(random.Random(seed).sample(pool, k))


def score_refusal(score: int) -> str | None:
    if not 1 <= score <= 5:
        return f"score: {score} is not 1-5"
    return None
