"""Daily: remind registrations on day 3, expire those whose activation window has ended."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.members.naming import clock, run_name
from tasks.members.registration import sweep_activations_task
from tasks.outbox import deliver_notifications_task


@flow(name="sweep-member-activations", flow_run_name=run_name("activation sweep"), log_prints=False)
def sweep_member_activations(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    sweep = sweep_activations_task(now)
    deliver_notifications_task(now)
    rows = [{"member": no, "action": "reminded"} for no in sweep.reminded]
    rows += [{"member": no, "action": "expired"} for no in sweep.expired]
    if rows:
        create_table_artifact(
            key="member-activation-sweep",
            table=rows,
            description="Registrations reminded (day 3) and expired (end of the window)",
        )
    return {"reminded": len(sweep.reminded), "expired": len(sweep.expired)}
