"""Club onboarding (收编登记) rules: the name standard, the checklist, who may act.

Pure: settings' values, the actor and dates come in as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.permissions import Actor, _who

OFFICER_TITLES = ("会长", "军师", "长史")
GRADES = {"所": "province", "营": "city", "队": "county"}
ITEM_LABELS = {
    "name": "俱乐部名称(含联盟标识)",
    "logo": "队标(待审批)",
    "car_stickers": "会员车号贴",
    "team_flag": "队旗",
    "offroad_venue": "越野场地资源",
    "wechat_group": "微信群",
    "official_account": "公众号",
    "forum_id": "管理员论坛ID",
}


class ClubInputError(ValueError):
    """Bad registration input; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def check_club_name(name: str, *, separator: str, parts: int, alliance_label: str) -> list[str]:
    """The standard "brand · alliance · series · place · club"; returns the parts."""
    pieces = [p.strip() for p in name.split(separator)]
    if separator not in name:
        raise ClubInputError("name", f"parts must be joined by {separator!r}")
    if len(pieces) != parts or any(not p for p in pieces):
        raise ClubInputError(
            "name", f"needs {parts} non-empty parts (brand·alliance·series·place·club)"
        )
    if alliance_label not in pieces[1]:
        raise ClubInputError("name", f"the alliance part must carry {alliance_label!r}")
    return pieces


def check_grade(grade: str) -> str:
    """所/营/队 (or the stored value) to a domain.models.ClubGrade value."""
    if grade in GRADES:
        return GRADES[grade]
    if grade in GRADES.values():
        return grade
    raise ClubInputError("grade", f"must be one of {'/'.join(GRADES)}")


def check_officers(officers: dict[str, str]) -> None:
    """Every title named, each a person (username)."""
    for title in OFFICER_TITLES:
        if not officers.get(title):
            raise ClubInputError(f"officer {title}", "missing")
    extra = set(officers) - set(OFFICER_TITLES)
    if extra:
        raise ClubInputError(f"officer {sorted(extra)[0]}", "unknown title")


@dataclass(frozen=True)
class ItemState:
    item: str
    required: bool
    status: str  # missing | submitted | approved | returned


def missing_required(items: list[ItemState]) -> list[str]:
    """Required items not yet approved (empty: the club may become active)."""
    return [i.item for i in items if i.required and i.status != "approved"]


def awaiting_review(items: list[ItemState]) -> list[str]:
    return [i.item for i in items if i.status == "submitted"]


def club_status(items: list[ItemState]) -> str:
    """pending until every required item has passed; then active."""
    return "pending" if missing_required(items) else "active"


def official_account_due(registered_on: date, *, days: int) -> date:
    return registered_on + timedelta(days=days)


def official_account_late(registered_on: date, today: date, *, days: int, status: str) -> bool:
    """Late when past due and not approved; reminded then escalated, never blocking."""
    return status != "approved" and today > official_account_due(registered_on, days=days)


# --- who may act


def register_refusal(actor: Actor | None, *, username: str, dealer_id: int) -> str | None:
    """A dealer's staff register their own dealer's club; HQ may register for any dealer."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "campaign_manager":
        return None
    if actor.role == "dealer" and actor.dealer_id == dealer_id:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is not staff of this dealer; "
        "registering is the dealer's"
    )


def submit_refusal(actor: Actor | None, *, username: str, dealer_id: int | None) -> str | None:
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "dealer" and dealer_id is not None and actor.dealer_id == dealer_id:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is not staff of the club's dealer; "
        "evidence is the dealer's"
    )


def review_refusal(actor: Actor | None, *, username: str, region_code: str) -> str | None:
    """The regional specialist of the club's region reviews its items."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "regional_specialist" and actor.region_code == region_code:
        return None
    return (
        f"user {actor.username!r} ({actor.role}) is not the regional specialist of "
        f"{region_code}; reviewing is theirs"
    )


def hq_refusal(actor: Actor | None, *, username: str, action: str) -> str | None:
    """Adding dealers and people is HQ's (the campaign manager)."""
    problem = _who(actor, username)
    if problem:
        return problem
    if actor.role == "campaign_manager":
        return None
    return f"user {actor.username!r} is {actor.role}; {action} is for campaign_manager"


# --- deadlines (the hourly sweep reminds and escalates; nothing blocks)


@dataclass(frozen=True)
class ReviewDeadline:
    due_on: date  # the specialist reviews by then; reminded from that day
    escalate_on: date  # the campaign manager hears from that day


def review_deadline(
    submitted_on: date, *, working_days: int, escalate_after: int, add_working_days
) -> ReviewDeadline:
    """A submission waits `working_days` working days for review, then the specialist is
    reminded; `escalate_after` working days later it goes to HQ. `add_working_days` is the
    mainland calendar's (domain.calendar), passed in to keep this pure."""
    due = add_working_days(submitted_on, working_days)
    return ReviewDeadline(due, add_working_days(due, escalate_after))


def official_account_remind_on(registered_on: date, *, days: int, remind_before: int) -> date:
    return official_account_due(registered_on, days=days) - timedelta(days=remind_before)
