"""The hourly sweep: reminders and escalations of overdue gates, and every dated step that is
due (campaign training at L-2 working days, launch notice at L, ...; activities add theirs).

Dated steps run here at their date, never in a process sleeping for weeks; each is marked
done in the store together with its notifications, so a second sweep the same day adds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from tasks.gates import run_dated_steps_task, sweep_gates_task


@flow(name="gate-sweep", flow_run_name="sweep · gates and dated steps", log_prints=False)
def sweep(now: datetime | None = None) -> dict[str, int]:
    """Remind and escalate overdue gates, then run the dated steps due by today."""
    now = now or datetime.now(UTC)
    ladder = sweep_gates_task(now)
    steps = run_dated_steps_task(now)
    if ladder or steps:
        create_table_artifact(
            key="sweep-last-actions",
            table=[{"what": "gate ladder", "subject": key, "detail": ""} for key in ladder]
            + [{"what": s.step, "subject": s.subject, "detail": s.detail} for s in steps],
            description=f"What the sweep did at {now.isoformat(timespec='minutes')}",
        )
    return {"ladder": len(ladder), "steps": len(steps)}
