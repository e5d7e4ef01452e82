"""When a lead is called, who calls it, and which dealer receives it (docs/rules.md).

- Call plan: calls 1 and 2 on the lead's call day (the business day of arrival, or the next
  working day when it arrived after the cut-off or on a rest day); call 3 the next working day.
- Assignment: the day's new leads go to agents on duty, each up to their remaining capacity,
  always to the agent with the least open load (ties by username): deterministic.
- Hand-off: round robin among the active dealers of the lead's city, skipping the dealers
  that already let this lead bounce.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from pydantic import BaseModel, Field

from domain.calendar import BUSINESS_TZ, WorkingCalendar, business_date, default_calendar


@dataclass(frozen=True)
class CallPlan:
    call_day: date  # calls 1 and 2
    third_call_due: date  # call 3

    def due(self, call_no: int) -> date:
        return self.call_day if call_no <= 2 else self.third_call_due


def call_day(
    arrived_at: datetime, *, cutoff: time, calendar: WorkingCalendar | None = None
) -> date:
    """The working day on which calls 1 and 2 are due for a lead that arrived then."""
    calendar = calendar or default_calendar()
    day = business_date(arrived_at)
    local = arrived_at.astimezone(BUSINESS_TZ).time()
    if calendar.is_working_day(day) and local < cutoff:
        return day
    return calendar.add_working_days(day, 1)


def call_plan(
    arrived_at: datetime, *, cutoff: time, calendar: WorkingCalendar | None = None
) -> CallPlan:
    calendar = calendar or default_calendar()
    first = call_day(arrived_at, cutoff=cutoff, calendar=calendar)
    return CallPlan(first, calendar.add_working_days(first, 1))


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
