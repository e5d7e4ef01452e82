"""A dealer accepts a handed-off lead from the Prefect UI (the run form) or the API
(`run_deployment("leads-accept/leads-accept", parameters={"acceptance": {...}})`)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from pydantic import BaseModel, Field

from tasks.leads.handoff import accept_handoff_task


class Acceptance(BaseModel):
    """What the form asks: which lead, and which dealer is accepting it."""

    lead_id: int = Field(description="线索编号 (from the hand-off message)")
    dealer_code: str = Field(description="经销商代码, e.g. CH001")


def _name() -> str:
    from prefect.runtime import flow_run

    acceptance = flow_run.parameters.get("acceptance") or {}
    if isinstance(acceptance, BaseModel):
        acceptance = acceptance.model_dump()
    return f"leads accept #{acceptance.get('lead_id')} by {acceptance.get('dealer_code')}"


@flow(name="leads-accept", flow_run_name=_name, log_prints=False)
def leads_accept(acceptance: Acceptance, now: datetime | None = None) -> dict[str, str | int]:
    return accept_handoff_task(acceptance.lead_id, acceptance.dealer_code, now or datetime.now(UTC))
