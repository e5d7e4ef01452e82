"""Registration (报名): members sign up for an approved activity before it starts."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from flows.naming import clock
from tasks.activities.checkin import register_members_task
from tasks.activities.store import read_activity_task
from tasks.gates.runs import label_run_task


@flow(name="activity-registration", flow_run_name=code_run_name("registration"), log_prints=False)
def activity_registration(code: str, member_nos: list[str], now: datetime | None = None) -> int:
    """Returns how many of the members were newly registered."""
    now = clock(now)
    activity = read_activity_task(code=code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · registration", activity.tags)
    return register_members_task(code=code, member_nos=member_nos, now=now)
