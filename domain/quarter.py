"""The cadence around a quarter plan: HQ's confirmation of the draft (a host change needs a
reason), the handbook and operations materials due three weeks before an activity, the
preparation that starts two weeks before, and the operator's monthly competitor report due
on the last working day of the month.

Pure: dates come in, the working calendar is passed as functions, policy numbers are
parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.regions import REGION_CODES
from domain.rotation import Quarter

# Classes whose activities hand in a handbook and operations materials (A: HQ's national
# events, B: cross-region crossings, C: a region's big club events); D/E are small outings.
MATERIAL_CLASSES = ("A", "B", "C")

# ---------------------------------------------------------------- quarter confirmation


class QuarterChanges(BaseModel):
    """What HQ changes in a draft when confirming it (empty: confirmed as drafted)."""

    host_region: str = ""
    crossing_starts_on: date | None = None
    crossing_ends_on: date | None = None
    reason: str = ""


def confirmation_problem(
    changes: QuarterChanges,
    *,
    quarter: Quarter,
    host: str,
    starts_on: date,
    ends_on: date,
) -> str | None:
    """What is wrong with a confirmation of the draft (host, crossing dates), or None."""
    new_host = changes.host_region.strip()
    if new_host and new_host not in REGION_CODES:
        return f"host_region {new_host!r} is not a region ({', '.join(sorted(REGION_CODES))})"
    moved = bool(new_host and new_host != host)
    new_start = changes.crossing_starts_on or starts_on
    new_end = changes.crossing_ends_on or ends_on
    redated = (new_start, new_end) != (starts_on, ends_on)
    if (moved or redated) and not changes.reason.strip():
        return "a changed host or changed dates need a reason (comment)"
    if new_end < new_start:
        return f"crossing_ends_on {new_end} is before crossing_starts_on {new_start}"
    months = {(quarter.year, m) for m in quarter.months}
    if (new_start.year, new_start.month) not in months or (
        new_end.year,
        new_end.month,
    ) not in months:
        return f"the crossing {new_start}–{new_end} is not within {quarter}"
    return None


def describe_changes(
    changes: QuarterChanges, *, host: str, starts_on: date, ends_on: date
) -> list[str]:
    """The changes as lines for the record and the messages (empty: as drafted)."""
    out = []
    new_host = changes.host_region.strip()
    if new_host and new_host != host:
        out.append(f"host {host} → {new_host}")
    new_start = changes.crossing_starts_on or starts_on
    new_end = changes.crossing_ends_on or ends_on
    if (new_start, new_end) != (starts_on, ends_on):
        out.append(f"dates {starts_on}–{ends_on} → {new_start}–{new_end}")
    return out


# ---------------------------------------------------------------- materials and preparation


def on_or_before_working_day(day: date, is_working_day: Callable[[date], bool]) -> date:
    """`day` if it is a working day, else the working day before it (a deadline falling on a
    holiday or a weekend is due the last working day before)."""
    while not is_working_day(day):
        day -= timedelta(1)
    return day


def materials_due_on(
    starts_on: date, *, weeks_before: int, is_working_day: Callable[[date], bool]
) -> date:
    """The handbook and operations materials are due `weeks_before` weeks before the start."""
    return on_or_before_working_day(starts_on - timedelta(weeks=weeks_before), is_working_day)


def preparation_starts_on(
    starts_on: date, *, weeks_before: int, is_working_day: Callable[[date], bool]
) -> date:
    """Preparation starts at least `weeks_before` weeks before the activity."""
    return on_or_before_working_day(starts_on - timedelta(weeks=weeks_before), is_working_day)


class MaterialStatus(StrEnum):
    due = "due"  # waiting for the organiser
    submitted = "submitted"  # waiting for HQ or the regional specialist
    returned = "returned"  # sent back with a reason; the organiser submits again
    confirmed = "confirmed"


MATERIAL_MOVES: dict[MaterialStatus, frozenset[MaterialStatus]] = {
    MaterialStatus.due: frozenset({MaterialStatus.submitted}),
    MaterialStatus.returned: frozenset({MaterialStatus.submitted}),
    MaterialStatus.submitted: frozenset({MaterialStatus.confirmed, MaterialStatus.returned}),
    MaterialStatus.confirmed: frozenset(),
}


class MaterialMoveError(ValueError):
    """The materials cannot move as asked (e.g. confirming what was never submitted)."""


def check_material_move(current: str, new: MaterialStatus) -> MaterialStatus:
    status = MaterialStatus(current)
    if new not in MATERIAL_MOVES[status]:
        allowed = ", ".join(sorted(MATERIAL_MOVES[status])) or "nothing"
        raise MaterialMoveError(f"materials are {status}: they cannot become {new} ({allowed})")
    return new


def material_reviewer_refusal(
    *, role: str, region_code: str | None, active: bool, klass: str, activity_region: str
) -> str | None:
    """HQ (campaign manager) confirms any activity's materials; the regional specialist those
    of B/C activities of their region (A is HQ's own event)."""
    if not active:
        return "the user is not active"
    if role == "campaign_manager":
        return None
    if role == "regional_specialist" and klass != "A" and region_code == activity_region:
        return None
    return f"{role} may not confirm these materials; they are for the campaign manager" + (
        "" if klass == "A" else f" or the regional specialist of {activity_region}"
    )


# ---------------------------------------------------------------- competitor tracking


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


def last_day_of_month(month: date) -> date:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - timedelta(1)


def competitor_report_due_on(month: date, *, is_working_day: Callable[[date], bool]) -> date:
    """The month's competitor report is due on its last working day."""
    return on_or_before_working_day(last_day_of_month(month), is_working_day)


def parse_month(value: str) -> date:
    """`2027-05` → 2027-05-01; ValueError naming the value otherwise."""
    try:
        year, month = value.strip().split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise ValueError(f"month {value!r} is not YYYY-MM") from None


class CompetitorEntry(BaseModel):
    """One competitor activity the operator saw: who, what, where, when, and how good."""

    brand: str = Field(min_length=1)
    activity_type: str = Field(min_length=1, max_length=60)
    features: str = ""
    region: str = Field(min_length=1, description="a region code, e.g. chengdu")
    starts_on: date
    ends_on: date
    assessment: str = ""

    def month(self) -> date:
        return month_of(self.starts_on)


def competitor_problem(entry: CompetitorEntry, *, brands: list[str]) -> tuple[str, str] | None:
    """(field, what is wrong) of an entry, or None."""
    if entry.brand not in brands:
        return "brand", f"{entry.brand!r} is not a tracked competitor ({'、'.join(brands)})"
    if entry.region not in REGION_CODES:
        return "region", f"{entry.region!r} is not a region ({', '.join(sorted(REGION_CODES))})"
    if entry.ends_on < entry.starts_on:
        return "ends_on", f"{entry.ends_on} is before starts_on {entry.starts_on}"
    return None


COMPETITOR_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "brand": ("brand", "品牌", "竞品"),
    "activity_type": ("activity_type", "类型", "活动类型", "type"),
    "features": ("features", "特点", "亮点"),
    "region": ("region", "区域", "地区"),
    "starts_on": ("starts_on", "开始", "开始日期", "from"),
    "ends_on": ("ends_on", "结束", "结束日期", "to"),
    "assessment": ("assessment", "评估", "评价"),
}
