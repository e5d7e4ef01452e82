"""Daily: remind registrations on day 3, expire those whose activation window has ended."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name
from tasks.members.registration import publish_activation_sweep, sweep_activations_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-activation-sweep",
    flow_run_name=daily_run_name("members", "activation sweep"),
    log_prints=False,
)
def sweep_member_activations(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    sweep = sweep_activations_task(now=now)
    deliver_notifications_task(now)
    publish_activation_sweep(sweep)
    return {"reminded": len(sweep.reminded), "expired": len(sweep.expired)}
