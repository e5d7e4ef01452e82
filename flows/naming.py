"""Run names and the run's clock, shared by every area's flows.

A run is named by what it is about, so a specialist can find it in the Prefect UI:
`leads 2027-03-01 · intake`, `members 2026-11-23 · birthdays`. Names are computed from the
run's own parameters, so a back-filled run carries its business day, not today's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from prefect.runtime import flow_run

from domain.calendar import business_date
from domain.instants import parse_instant


def clock(now: datetime | str | None) -> datetime:
    """The flow's `now`: given (tests, back-fills, reruns; text without a zone is business
    time) or the wall clock of a scheduled run. The one place a flow reads the clock."""
    return parse_instant(now) if now else datetime.now(UTC)


def run_day(now: datetime | str | None) -> date:
    """The Asia/Shanghai business day of the run's `now`."""
    return business_date(clock(now))


def parameter(name: str, default=None):
    """One of the current run's parameters (inside a flow_run_name callable)."""
    return (flow_run.parameters or {}).get(name, default)


def daily_run_name(area: str, step: str) -> Callable[[], str]:
    """`<area> <business day> · <step>` for flows that take `now`."""

    def name() -> str:
        return f"{area} {run_day(parameter('now')).isoformat()} · {step}"

    return name
