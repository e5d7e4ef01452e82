"""Rules of one club activity's life: its statuses and the moves between them, what a valid
proposal is, who reviews it, when its warm-up goes out, when its recap is due and when its
points are issued.

Pure: every rule takes `today`/dates and the policy numbers as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from domain import calendar
from domain.models import ActivityClass, Role

# Classes whose claims and reviews follow the club path; A is created by HQ.
CLUB_CLASSES = frozenset({ActivityClass.B, ActivityClass.C, ActivityClass.D, ActivityClass.E})


class ActivityStatus(StrEnum):
    proposed = "proposed"
    in_review = "in_review"
    sent_back = "sent_back"  # back to the organiser for changes; resubmitted as proposed
    rejected = "rejected"
    approved = "approved"
    announced = "announced"  # the warm-up went out
    cancelled = "cancelled"  # approved too late: the start passed before the warm-up
    archived = "archived"


# Where each status may go; a status missing here (rejected, cancelled, archived) is final.
# Approval may come straight from `proposed` (classes D/E have no review).
ACTIVITY_MOVES: dict[ActivityStatus, frozenset[ActivityStatus]] = {
    ActivityStatus.proposed: frozenset(
        {
            ActivityStatus.in_review,
            ActivityStatus.sent_back,
            ActivityStatus.rejected,
            ActivityStatus.approved,
            ActivityStatus.cancelled,
        }
    ),
    ActivityStatus.in_review: frozenset(
        {
            ActivityStatus.sent_back,
            ActivityStatus.rejected,
            ActivityStatus.approved,
            ActivityStatus.cancelled,
        }
    ),
    ActivityStatus.sent_back: frozenset({ActivityStatus.proposed}),
    ActivityStatus.approved: frozenset({ActivityStatus.announced, ActivityStatus.archived}),
    ActivityStatus.announced: frozenset({ActivityStatus.archived}),
}


class StatusMoveRefused(ValueError):
    """A status change the table of moves does not allow."""


def move_activity(current: str, to: ActivityStatus) -> ActivityStatus:
    """The new status `to`, or a refusal naming both when `current` may not move there."""
    if to not in ACTIVITY_MOVES.get(ActivityStatus(current), frozenset()):
        raise StatusMoveRefused(f"an activity that is {current} cannot become {to}")
    return to


class BudgetLine(BaseModel):
    item: str = Field(min_length=1, description="What the money is for, e.g. 场地费")
    amount: float = Field(ge=0, description="Yuan")


class ActivityProposal(BaseModel):
    """活动提报: what a club admin submits. The Prefect UI renders this as the run form."""

    title: str = Field(min_length=1, max_length=120, description="e.g. 雨林穿越 秋季站")
    activity_class: ActivityClass = Field(description="A–E; A is created by HQ, never by a club")
    theme: str = Field("", description="Seasonal theme, e.g. 穿越季")
    region: str = Field(description="Region code, e.g. chengdu")
    club: str | None = Field(None, description="Club code, e.g. C-CH001 (empty only for class A)")
    starts_on: date
    ends_on: date
    place: str = ""
    expected_participants: int = Field(0, ge=0)
    budget: list[BudgetLine] = Field(default_factory=list)
    subsidy_requested: float = Field(0, ge=0)
    invited_regions: list[str] = Field(
        default_factory=list, description="Class B: regions whose clubs are invited"
    )
    proposed_by: str = Field(description="Username of the proposer")
    late: bool = Field(
        False,
        description="Too late for the warm-up window: ask the reviewer to accept it anyway",
    )
    safety_plan: str = Field(
        "",
        description="Class B/C: safety plan (text or link) for fire, earthquake, storm, power loss",
    )
    support_vehicle: str = Field("", description="A crossing: its support vehicle")
    tiers: list[str] = Field(
        default_factory=list,
        description="Tier-only activity: the tiers allowed to register (empty: every member)",
    )

    @field_validator("tiers")
    @classmethod
    def _known_tiers(cls, value: list[str]) -> list[str]:
        from domain.tiers import parse_tiers  # domain.tiers imports the permissions rules

        return parse_tiers(value)

    @field_validator("title", "region", "proposed_by")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


class CheckinRow(BaseModel):
    """One check-in: the member (by number, or by phone) and optionally when and as organiser."""

    member_no: str | None = None
    phone: str | None = None
    checked_in_at: datetime | None = None
    organiser: bool = False
    line: int | None = Field(None, description="Row of the source file, for error messages")


class RecapInput(BaseModel):
    """What the club files after the activity (the UI renders it as a form)."""

    filed_by: str = Field(description="Username of the club admin filing the recap")
    media_links: list[str] = Field(default_factory=list, description="Photo/video links")
    media_posts: int = Field(0, ge=0, description="Media posts published")
    media_reads: int = Field(0, ge=0, description="Reads of those posts")
    feedback_score: float | None = Field(None, ge=0, le=5, description="Members' score, 0–5")
    notes: str = ""


@dataclass(frozen=True)
class ClubRef:
    code: str
    region_code: str


@dataclass(frozen=True)
class Booked:
    """Another activity of the same club that still takes place."""

    code: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ProposalRefused(ValueError):
    """A proposal that cannot be registered; `problems` name each field and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("proposal refused: " + "; ".join(map(str, problems)))


def activity_code(club_code: str | None, starts_on: date) -> str:
    """The natural key: a club never has two activities at once, so club + start is unique."""
    return f"{club_code or 'HQ'}-{starts_on:%Y%m%d}"


def check_proposal(
    proposal: ActivityProposal,
    *,
    club: ClubRef | None,
    known_regions: Iterable[str],
    booked: Iterable[Booked],
    today: date,
    warmup_opens_before_days: int,
    warmup_closes_before_days: int,
) -> list[Problem]:
    """Every reason the proposal cannot be registered (empty list: it can)."""
    regions = set(known_regions)
    problems: list[Problem] = []
    klass = proposal.activity_class
    if proposal.region not in regions:
        problems.append(Problem("region", f"unknown region {proposal.region!r}"))
    if klass == ActivityClass.A and proposal.club:
        problems.append(
            Problem("activity_class", "class A events are created by HQ, not proposed by a club")
        )
    if proposal.club is None:
        if klass != ActivityClass.A:
            problems.append(Problem("club", f"a class {klass} activity needs its club"))
    elif club is None:
        problems.append(Problem("club", f"unknown club {proposal.club!r}"))
    elif club.region_code != proposal.region:
        problems.append(
            Problem(
                "region", f"club {club.code} belongs to {club.region_code}, not {proposal.region}"
            )
        )
    if proposal.starts_on < today:
        problems.append(
            Problem("starts_on", f"start {proposal.starts_on} is in the past (today {today})")
        )
    if proposal.ends_on < proposal.starts_on:
        problems.append(
            Problem("ends_on", f"end {proposal.ends_on} is before start {proposal.starts_on}")
        )
    for other in booked:
        if other.starts_on <= proposal.ends_on and proposal.starts_on <= other.ends_on:
            problems.append(
                Problem(
                    "starts_on",
                    f"the club already has {other.code} from {other.starts_on} to {other.ends_on}",
                )
            )
    unknown_invited = sorted(set(proposal.invited_regions) - regions)
    if unknown_invited:
        problems.append(Problem("invited_regions", f"unknown regions {unknown_invited}"))
    if proposal.starts_on >= today and not proposal.late:
        closes = warmup_window(
            proposal.starts_on,
            opens_before=warmup_opens_before_days,
            closes_before=warmup_closes_before_days,
        ).closes
        if today > closes:
            problems.append(
                Problem(
                    "starts_on",
                    f"too late for the warm-up window (it closed on {closes}); "
                    "set late=true to ask the reviewer to accept a late activity",
                )
            )
    return problems


# ---------------------------------------------------------------- review


@dataclass(frozen=True)
class ReviewStep:
    key: str
    title: str
    role: Role
    region: str | None  # None: any region (HQ roles)


def review_chain(activity_class: ActivityClass, region: str) -> tuple[ReviewStep, ...]:
    """Who reviews, in order: B two steps, C one, A/D/E none.

    Each step is a gate owned by `role` (in `region`): the gate machinery refuses anyone else.
    """
    specialist = ReviewStep("specialist_review", "区域专员审核", Role.regional_specialist, region)
    manager = ReviewStep("manager_review", "活动经理审核", Role.campaign_manager, None)
    if activity_class == ActivityClass.B:
        return (specialist, manager)
    if activity_class == ActivityClass.C:
        return (specialist,)
    return ()


# ---------------------------------------------------------------- warm-up and dated steps


def warmup_window(starts_on: date, *, opens_before: int, closes_before: int) -> calendar.DateWindow:
    """预热 window: start-7 … start-3 calendar days by default (both inclusive)."""
    return calendar.window(starts_on, opens_before=opens_before, closes_before=closes_before)


WarmupAction = Literal["scheduled", "send_now", "late", "cancel"]


@dataclass(frozen=True)
class WarmupPlan:
    action: WarmupAction
    window: calendar.DateWindow
    send_on: date | None
    reason: str


def plan_warmup(
    *, starts_on: date, approved_on: date, opens_before: int, closes_before: int
) -> WarmupPlan:
    """When the announcement goes, given the day the activity was approved.

    - approved before the window: on the window's first working day (its opening day when
      that is a working day; the opening day itself if the whole window is a holiday);
    - approved inside the window: at once;
    - approved after start-3 up to the start day: at once, and the organiser is warned;
    - approved after the start: the activity is cancelled with notice.
    """
    win = warmup_window(starts_on, opens_before=opens_before, closes_before=closes_before)
    if approved_on > starts_on:
        return WarmupPlan(
            "cancel", win, None, f"approved on {approved_on}, after the start {starts_on}"
        )
    if approved_on > win.closes:
        return WarmupPlan(
            "late",
            win,
            approved_on,
            f"approved on {approved_on}, after the warm-up window closed on {win.closes}",
        )
    if approved_on >= win.opens:
        return WarmupPlan("send_now", win, approved_on, "approved inside the warm-up window")
    send_on = first_working_day(win)
    return WarmupPlan("scheduled", win, send_on, f"first working day of the window {win.opens}…")


def first_working_day(win: calendar.DateWindow) -> date:
    day = calendar.next_working_day(win.opens)
    return day if win.contains(day) else win.opens


def recap_due_on(ends_on: date, *, recap_due_days: int) -> date:
    return ends_on + timedelta(days=recap_due_days)


def points_on(ends_on: date, *, points_after_working_days: int) -> date:
    return calendar.add_working_days(ends_on, points_after_working_days)


def points_for(
    activity_class: ActivityClass,
    *,
    organiser: bool,
    points_by_class: dict[str, int],
    organiser_bonus: int,
) -> int:
    base = points_by_class[str(activity_class)]
    return base + organiser_bonus if organiser else base
