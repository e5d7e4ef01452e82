"""When a lead is called, who calls it, and which dealer receives it (docs/rules.md).

- Call plan: the service team's hours, not the office calendar. Calls 1 and 2 on the lead's
  call day (the day of arrival, or the next day when it arrived after the service closed),
  call 3 the next day; a peak date is served around the clock.
- Assignment: the day's new leads go to agents on duty, each up to their remaining capacity,
  always to the agent with the least open load (ties by username): deterministic.
- Hand-off: round robin among the active dealers of the lead's city, skipping the dealers
  that already let this lead bounce.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field

from domain.calendar import BUSINESS_TZ, WorkingCalendar, business_date, default_calendar


@dataclass(frozen=True)
class ServiceHours:
    """When the service team (客服) calls: every day of the week, holidays included, from
    `opens` to `closes` (Asia/Shanghai); around the clock on a peak date (a launch, a
    festival). The office working-day calendar plays no part."""

    opens: time = time(9, 0)
    closes: time = time(23, 0)
    peak_dates: frozenset[date] = frozenset()

    def is_peak(self, day: date) -> bool:
        return day in self.peak_dates

    def day_opens(self, day: date) -> datetime:
        return datetime.combine(day, time(0) if self.is_peak(day) else self.opens, BUSINESS_TZ)

    def day_closes(self, day: date) -> datetime:
        if self.is_peak(day):
            return datetime.combine(day + timedelta(days=1), time(0), BUSINESS_TZ)
        return datetime.combine(day, self.closes, BUSINESS_TZ)

    def is_open(self, moment: datetime) -> bool:
        day = business_date(moment)
        return self.day_opens(day) <= moment < self.day_closes(day)


def service_day(moment: datetime, hours: ServiceHours) -> date:
    """The service day a moment belongs to: its own day until that day's close, then the next.
    A lead arriving then is called on that day; agents on duty that day take it."""
    day = business_date(moment)
    return day if moment < hours.day_closes(day) else day + timedelta(days=1)


def service_day_bounds(day: date, hours: ServiceHours) -> tuple[datetime, datetime]:
    """[the previous day's close, this day's close): every moment belongs to one service day."""
    return hours.day_closes(day - timedelta(days=1)), hours.day_closes(day)


@dataclass(frozen=True)
class CallPlan:
    call_day: date  # calls 1 and 2
    third_call_due: date  # call 3
    # When calls 1 and 2 may start: the arrival, or that day's opening if later.
    calls_from: datetime | None = None

    def due(self, call_no: int) -> date:
        return self.call_day if call_no <= 2 else self.third_call_due


def call_day(arrived_at: datetime, *, hours: ServiceHours) -> date:
    """The day calls 1 and 2 are due: the arrival day when the lead came before that day's
    close, else the next day (weekends and holidays are service days like any other)."""
    return service_day(arrived_at, hours)


def call_plan(arrived_at: datetime, *, hours: ServiceHours) -> CallPlan:
    """Calls 1 and 2 on the call day from the service's opening (or the arrival, if later);
    call 3 on the next calendar day."""
    first = call_day(arrived_at, hours=hours)
    start = max(arrived_at.astimezone(BUSINESS_TZ), hours.day_opens(first))
    return CallPlan(first, first + timedelta(days=1), start)


# ---------------------------------------------------------------- assignment


@dataclass(frozen=True)
class AgentSlot:
    """An agent on duty today: open leads held now and leads still acceptable today."""

    username: str
    agent_id: int
    open_load: int
    remaining_today: int


def assign_leads(lead_ids: Iterable[int], agents: Iterable[AgentSlot]) -> dict[int, int]:
    """lead id → agent id, in lead order, each to the least-loaded agent with capacity left.

    Leads beyond everyone's capacity stay unassigned (absent from the result): the supervisor
    sees them and the next day's run assigns them first.
    """
    heap = [
        (a.open_load, a.username, a.agent_id, a.remaining_today)
        for a in agents
        if a.remaining_today > 0
    ]
    heapq.heapify(heap)
    result: dict[int, int] = {}
    for lead_id in lead_ids:
        if not heap:
            break
        load, username, agent_id, remaining = heapq.heappop(heap)
        result[lead_id] = agent_id
        if remaining > 1:
            heapq.heappush(heap, (load + 1, username, agent_id, remaining - 1))
    return result


# ---------------------------------------------------------------- dealer round robin


def next_dealer(
    dealer_codes: Sequence[str], *, last: str | None, exclude: Iterable[str] = ()
) -> str | None:
    """The dealer after `last` in code order (wrapping), skipping `exclude`; None if none left."""
    ordered = sorted(dealer_codes)
    skipped = set(exclude)
    candidates = [code for code in ordered if code not in skipped]
    if not candidates:
        return None
    if last is None:
        return candidates[0]
    for code in candidates:
        if code > last:
            return code
    return candidates[0]


def handoff_deadline(
    handed_at: datetime, *, working_days: int, calendar: WorkingCalendar | None = None
) -> datetime:
    """The same local time `working_days` working days after the hand-off (Fri 15:00 → Mon
    15:00; a hand-off on a holiday counts from the next working day's start)."""
    calendar = calendar or default_calendar()
    local = handed_at.astimezone(BUSINESS_TZ)
    day = local.date()
    if not calendar.is_working_day(day):
        start = calendar.next_working_day(day)
        return datetime.combine(
            calendar.add_working_days(start, working_days), time(0), BUSINESS_TZ
        )
    return datetime.combine(
        calendar.add_working_days(day, working_days),
        local.timetz().replace(tzinfo=None),
        BUSINESS_TZ,
    )


class Acceptance(BaseModel):
    """A dealer accepting a handed-off lead (the leads-accept run form): which lead, and which
    dealer is accepting it."""

    lead_id: int = Field(description="线索编号 (from the hand-off message)")
    dealer_code: str = Field(description="经销商代码, e.g. CH001")
