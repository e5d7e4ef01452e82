"""Prefect client calls on the run that waits at a gate: name it after its step, retire it
when another run took over."""

from __future__ import annotations

from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled

from tasks.common import run_logger


@task(name="label-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def label_run_task(flow_run_id: str, name: str, tags: list[str] | None = None) -> None:
    """Rename the run to its current step (`campaign 2027 双十一 · signoff`) and add tags, so
    the runs list shows where each subject stands."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        merged = sorted(set(run.tags or []) | set(tags or []))
        client.update_flow_run(flow_run_id, name=name, tags=merged)


@task(name="retire-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def retire_run_task(flow_run_id: str, reason: str) -> bool:
    """Cancel a run that another run has taken over, if it still waits (suspended or
    scheduled), so only one run per subject shows as waiting. A running or finished run is
    left alone. Returns whether it was cancelled."""
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return False
        if run.state is None or run.state.type not in (StateType.PAUSED, StateType.SCHEDULED):
            return False
        client.set_flow_run_state(run.id, Cancelled(message=reason), force=True)
    run_logger("gates").info("cancelled run %s: %s", run.name, reason)
    return True
