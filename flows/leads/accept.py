"""A dealer accepts a handed-off lead from the Prefect UI (the run form) or the API
(`run_deployment("leads-accept/leads-accept", parameters={"acceptance": {...}})`)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from pydantic import BaseModel

from clubflow.core.settings import get_settings
from domain.leads_plan import Acceptance
from flows.naming import clock, parameter
from tasks.leads.handoff import accept_handoff_task


def _name() -> str:
    acceptance = parameter("acceptance") or {}
    if isinstance(acceptance, BaseModel):
        acceptance = acceptance.model_dump()
    return f"leads accept #{acceptance.get('lead_id')} by {acceptance.get('dealer_code')}"


@flow(name="leads-accept", flow_run_name=_name, log_prints=False)
def leads_accept(acceptance: Acceptance, now: datetime | None = None) -> dict[str, str | int]:
    settings = get_settings()
    return accept_handoff_task(
        lead_id=acceptance.lead_id,
        dealer_code=acceptance.dealer_code,
        now=clock(now),
        settings=settings,
    )
