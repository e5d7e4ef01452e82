"""Run names and the business clock shared by the members flows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prefect.runtime import flow_run

from domain.calendar import business_date


def clock(now: datetime | None) -> datetime:
    """The flow's `now`: given (tests, back-fills) or the wall clock of a scheduled run."""
    return now or datetime.now(UTC)


def run_name(step: str) -> Callable[[], str]:
    """`members 2026-11-23 · birthdays`: the business day the run is about, and its step."""

    def name() -> str:
        now = (flow_run.parameters or {}).get("now")
        if isinstance(now, str):
            now = datetime.fromisoformat(now)
        return f"members {business_date(clock(now)).isoformat()} · {step}"

    return name
