"""The hourly sweep: reminders and escalations of overdue gates, and every dated step that is
due (campaign training at L-2 working days, launch notice at L, ...; activities add theirs).

Dated steps run here at their date, never in a process sleeping for weeks; each is marked
done in the store together with its notifications, so a second sweep the same day adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock
from tasks.gates.dated_steps import run_dated_steps_task
from tasks.gates.ladder import queue_gate_reminders_task
from tasks.gates.runs import publish_sweep_actions_task


@flow(name="gate-sweep", flow_run_name="sweep · gates and dated steps", log_prints=False)
def sweep(now: datetime | None = None) -> dict[str, int]:
    """Remind and escalate overdue gates, then run the dated steps due by today."""
    settings = get_settings()
    now = clock(now)
    ladder = queue_gate_reminders_task(now=now, settings=settings)
    steps = run_dated_steps_task(now, settings=settings)
    publish_sweep_actions_task(ladder, steps, now)
    return {"ladder": len(ladder), "steps": len(steps)}
