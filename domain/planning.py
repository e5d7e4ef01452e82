"""The quarter plan (the activity cadence: a cross-region crossing per quarter, the annual
national gathering, a monthly in-region activity per club): the crossing, the gathering when
it falls in the quarter, and three monthly in-region slots per club; the monthly plan a club
submits for a slot, and the statuses slots and submissions move through.

Pure: the host comes from domain.rotation, dates from the working-day calendar passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.activities import activity_code
from domain.regions import REGIONS, SEASON_OF_MONTH
from domain.rotation import Hosting, Quarter

# The seasonal themes of the activity rules, by season (policy; the slot names the season's theme).
SEASON_THEMES: dict[str, str] = {
    "spring": "踏青游·开春探路",
    "summer": "涉水季·避暑游",
    "autumn": "赏秋游·穿越季",
    "winter": "冰雪挑战·冬季收尾集会",
}
SEASON_ZH = {"spring": "春", "summer": "夏", "autumn": "秋", "winter": "冬"}
GATHERING_TITLE = "羽林车友俱乐部 年度集结令"


@dataclass(frozen=True)
class ClubRef:
    id: int
    code: str
    name: str
    region_code: str
    province: bool = False  # grade 所: organises its region's crossing


@dataclass(frozen=True)
class CrossingPlan:
    quarter: Quarter
    region: str
    region_zh: str
    theme: str  # the host's signature crossing
    month: int
    starts_on: date
    ends_on: date
    on_cycle: bool
    cycle: int
    override: bool
    reason: str
    organiser_club: str | None = None  # the host region's club that proposes it

    @property
    def activity_code(self) -> str:
        """The code the crossing will carry as an activity: the activity lifecycle's natural
        key (organising club + start date), so the year-end scoring finds its records."""
        return activity_code(self.organiser_club, self.starts_on)


# What the gathering is by terrain: the plans' national gathering is a winter snow event.
GATHERING_KIND_ZH = {"snow": "冰雪集结", "desert": "沙漠集结", "grassland": "草原集结"}


@dataclass(frozen=True)
class GatheringPlan:
    title: str
    starts_on: date
    ends_on: date
    host: str = ""  # the region that hosts it
    terrain: str = ""
    features: str = ""  # e.g. 冰钓、雪地游戏、雪地火锅


@dataclass(frozen=True)
class SlotPlan:
    club_id: int
    club_code: str
    club_name: str
    region_code: str
    month: date  # first day of the month
    season: str
    theme: str
    due_on: date  # the club's monthly plan is due to HQ by this day


@dataclass(frozen=True)
class QuarterPlan:
    quarter: Quarter
    crossing: CrossingPlan
    gathering: GatheringPlan | None
    slots: tuple[SlotPlan, ...]


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def free_weekends(
    year: int, month: int, is_working_day: Callable[[date], bool]
) -> list[tuple[date, date]]:
    """Saturday–Sunday pairs of the month when both days are rest days (a make-up working
    Saturday, 调休, is no day for an event)."""
    day, end = month_start(year, month), next_month(month_start(year, month))
    out = []
    while day < end:
        sunday = day + timedelta(1)
        if (
            day.weekday() == 5
            and sunday < end
            and not is_working_day(day)
            and not is_working_day(sunday)
        ):
            out.append((day, sunday))
        day += timedelta(1)
    return out


def event_weekend(
    year: int, month: int, is_working_day: Callable[[date], bool], nth: int
) -> tuple[date, date]:
    """The nth free weekend of the month (-1: the last); the last one if there are fewer."""
    weekends = free_weekends(year, month, is_working_day)
    if not weekends:  # pragma: no cover - every month has a free weekend
        raise ValueError(f"{year}-{month:02d} has no free weekend")
    if nth < 0:
        return weekends[nth] if -nth <= len(weekends) else weekends[0]
    return weekends[min(nth, len(weekends)) - 1]


def plan_crossing(
    hosting: Hosting,
    is_working_day: Callable[[date], bool],
    *,
    organiser_club: str | None = None,
    weekend: int = 2,
) -> CrossingPlan:
    region = next(r for r in REGIONS if r.code == hosting.region)
    starts_on, ends_on = event_weekend(hosting.quarter.year, hosting.month, is_working_day, weekend)
    return CrossingPlan(
        quarter=hosting.quarter,
        region=region.code,
        region_zh=region.name_zh,
        theme=region.signature_crossing_zh,
        month=hosting.month,
        starts_on=starts_on,
        ends_on=ends_on,
        on_cycle=hosting.on_cycle,
        cycle=hosting.cycle,
        override=hosting.override,
        reason=hosting.reason,
        organiser_club=organiser_club,
    )


def organiser_club(clubs: Iterable[ClubRef], region: str) -> str | None:
    """The club that proposes the region's crossing: its province-grade club (所) first,
    then the lowest code."""
    candidates = sorted((not c.province, c.code) for c in clubs if c.region_code == region)
    return candidates[0][1] if candidates else None


def plan_quarter(
    quarter: Quarter,
    hosting: Hosting,
    clubs: Iterable[ClubRef],
    *,
    gathering_month: int,
    due_working_days: int,
    gathering_host: str = "",
    gathering_terrain: str = "",
    gathering_features: str = "",
    is_working_day: Callable[[date], bool],
    add_working_days: Callable[[date, int], date],
    season_of_month: Mapping[int, str] = SEASON_OF_MONTH,
    season_themes: Mapping[str, str] = SEASON_THEMES,
) -> QuarterPlan:
    """The quarter's plan. A monthly slot is due `due_working_days` working days before its
    month starts (monthly plans are due before their month starts)."""
    if hosting.quarter != quarter:
        raise ValueError(f"host of {hosting.quarter} given for quarter {quarter}")
    clubs = list(clubs)
    crossing = plan_crossing(
        hosting, is_working_day, organiser_club=organiser_club(clubs, hosting.region)
    )
    gathering = None
    if gathering_month in quarter.months:
        # The last free weekend: clear of the crossing weekend in the same month.
        starts_on, ends_on = event_weekend(quarter.year, gathering_month, is_working_day, -1)
        kind = GATHERING_KIND_ZH.get(gathering_terrain, "")
        gathering = GatheringPlan(
            f"{quarter.year} {GATHERING_TITLE}" + (f" · {kind}" if kind else ""),
            starts_on,
            ends_on,
            host=gathering_host,
            terrain=gathering_terrain,
            features=gathering_features,
        )
    months = [month_start(quarter.year, m) for m in quarter.months]
    due = {m: add_working_days(m, -due_working_days) for m in months}
    slots = tuple(
        SlotPlan(
            club_id=club.id,
            club_code=club.code,
            club_name=club.name,
            region_code=club.region_code,
            month=m,
            season=season_of_month[m.month],
            theme=season_themes[season_of_month[m.month]],
            due_on=due[m],
        )
        for club in sorted(clubs, key=lambda c: (c.region_code, c.code))
        for m in months
    )
    return QuarterPlan(quarter=quarter, crossing=crossing, gathering=gathering, slots=slots)


def crossing_proposal(crossing: CrossingPlan, *, proposed_by: str) -> dict[str, Any]:
    """The crossing as an activity proposal of class B (a cross-region gathering),
    in the fields of domain.activities.ActivityProposal, from the host's organising club."""
    return {
        "title": f"{crossing.region_zh} {crossing.theme} {crossing.quarter}",
        "activity_class": "B",
        "theme": crossing.theme,
        "region": crossing.region,
        "club": crossing.organiser_club,
        "starts_on": crossing.starts_on,
        "ends_on": crossing.ends_on,
        "place": "",
        "expected_participants": 0,
        "budget": [],
        "subsidy_requested": 0,
        "invited_regions": [r.code for r in REGIONS if r.code != crossing.region],
        "proposed_by": proposed_by,
        "late": False,
    }


# ---------------------------------------------------------------- monthly plans

CLUB_CLASSES = ("C", "D", "E")  # a club's own monthly activity (A and B are HQ/region events)


class MonthlyPlan(BaseModel):
    """A club's monthly plan (月度活动计划) for one slot."""

    title: str = Field(min_length=1, max_length=120)
    activity_class: str = Field(description="C, D or E")
    theme: str = ""
    starts_on: date
    ends_on: date
    place: str = ""
    expected_participants: int = Field(0, ge=0)
    budget: list[dict[str, Any]] = Field(default_factory=list, description="[{item, amount}]")
    subsidy_requested: float = Field(0, ge=0)


class SlotStatus(StrEnum):
    open = "open"  # waiting for the club's monthly plan
    submitted = "submitted"  # the plan is in (it stands: a slot takes one plan)


class SubmissionStatus(StrEnum):
    submitted = "submitted"  # waiting to become an activity proposal
    proposed = "proposed"  # the activity lifecycle has it (linked by activity code)


SLOT_MOVES: dict[SlotStatus, frozenset[SlotStatus]] = {
    SlotStatus.open: frozenset({SlotStatus.submitted}),
    SlotStatus.submitted: frozenset(),
}
SUBMISSION_MOVES: dict[SubmissionStatus, frozenset[SubmissionStatus]] = {
    SubmissionStatus.submitted: frozenset({SubmissionStatus.proposed}),
    SubmissionStatus.proposed: frozenset(),
}


class StatusMoveError(ValueError):
    """A slot or submission asked to move where its status table does not allow."""


def move(moves: Mapping[Any, frozenset], current: str, new: StrEnum) -> StrEnum:
    """`new` if the table allows `current` → `new`; refuses a wrong move by name."""
    status = type(new)(current)
    if new not in moves[status]:
        allowed = ", ".join(sorted(moves[status])) or "nothing"
        raise StatusMoveError(f"{type(new).__name__} {status} cannot become {new} ({allowed})")
    return new


def moves_into(moves: Mapping[Any, frozenset], new: StrEnum) -> list[StrEnum]:
    """The statuses the table lets move into `new` (for a guarded UPDATE … WHERE status IN)."""
    return sorted(status for status, targets in moves.items() if new in targets)


# ---------------------------------------------------------------- year-end best crossing

SCORE_FACTORS = ("participants", "feedback", "media")


@dataclass(frozen=True)
class CrossingResult:
    quarter: str
    region_code: str
    activity_code: str | None
    participants: int  # checked-in members only
    feedback_score: float | None
    media_reach: int  # reads of the recap's media posts


@dataclass(frozen=True)
class RankedCrossing:
    result: CrossingResult
    score: float
    rank: int


def score_crossings(
    results: Iterable[CrossingResult], weights: Mapping[str, float]
) -> list[RankedCrossing]:
    """Rank the year's crossings. Each factor is divided by the year's best so the weights
    compare like with like; a missing feedback score counts as 0. Ties: more participants,
    then the earlier quarter."""
    unknown = set(weights) - set(SCORE_FACTORS)
    missing = set(SCORE_FACTORS) - set(weights)
    if unknown or missing:
        raise ValueError(
            f"crossing_score_weights must name exactly {list(SCORE_FACTORS)}; "
            f"unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    results = list(results)

    def normalised(values: list[float]) -> list[float]:
        best = max(values, default=0)
        return [v / best if best > 0 else 0.0 for v in values]

    factors = {
        "participants": normalised([r.participants for r in results]),
        "feedback": normalised([r.feedback_score or 0.0 for r in results]),
        "media": normalised([r.media_reach for r in results]),
    }
    scores = [
        round(sum(weights[name] * factors[name][i] for name in SCORE_FACTORS), 6)
        for i in range(len(results))
    ]
    order = sorted(
        range(len(results)),
        key=lambda i: (-scores[i], -results[i].participants, results[i].quarter),
    )
    return [
        RankedCrossing(result=results[i], score=scores[i], rank=rank)
        for rank, i in enumerate(order, start=1)
    ]
