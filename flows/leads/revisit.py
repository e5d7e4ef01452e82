"""Weekly revisit (Mondays 09:00): leads unconverted for over two months, to their agents."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from pydantic import Field

from flows.leads.common import run_name
from tasks.leads.revisit import list_revisits_task


@flow(name="leads-weekly-revisit", flow_run_name=run_name("revisit"), log_prints=False)
def leads_weekly_revisit(
    now: datetime | None = Field(None, description="Business time of the run (default: now)"),
) -> dict[str, int]:
    result = list_revisits_task(now or datetime.now(UTC))
    return {"listed": result.listed, **result.by_recipient}
