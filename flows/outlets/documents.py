"""Daily: remind the parent dealers of outlet documents about to expire and suspend the
outlets whose document expired (their leads stop until a renewal is reviewed)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from domain.calendar import business_date
from flows.naming import clock, daily_run_name
from tasks.outlets.documents import sweep_outlet_documents_task


@flow(
    name="outlets-documents",
    flow_run_name=daily_run_name("outlets", "documents"),
    description="Outlet documents: reminders before expiry, suspension after it.",
    log_prints=False,
)
def outlets_documents(now: datetime | None = None) -> dict:
    now = clock(now)
    result = sweep_outlet_documents_task(today=business_date(now), now=now, settings=get_settings())
    return {"reminded": result.reminded, "suspended": result.suspended}
