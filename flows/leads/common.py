"""Run names of the lead flows: `leads 2027-03-01 intake`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect.runtime import flow_run

from domain.calendar import business_date


def run_day(now: datetime | str | None) -> date:
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    return business_date(now or datetime.now(UTC))


def run_name(step: str):
    def name() -> str:
        return f"leads {run_day(flow_run.parameters.get('now')).isoformat()} {step}"

    return name
