"""Finance marks an approved claim paid; the club is told."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from flows.naming import clock
from tasks.activities.claims import claim_markdown_task, mark_paid_task, publish_claim
from tasks.activities.store import read_activity_task
from tasks.gates.runs import label_run_task


@flow(name="activity-payment", flow_run_name=code_run_name("payment"), log_prints=False)
def activity_payment(
    code: str, paid_by: str, payment_ref: str, now: datetime | None = None
) -> float:
    """Returns the amount paid."""
    now = clock(now)
    activity = read_activity_task(code=code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · payment", activity.tags)
    claim = mark_paid_task(code=code, paid_by=paid_by, payment_ref=payment_ref, now=now)
    publish_claim(
        activity,
        claim_markdown_task(code=code),
        f"paid ¥{claim.total_approved:,.2f} ({payment_ref})",
    )
    return claim.total_approved or 0.0
