"""The recover-runs sweep: runs whose process died are found and brought back, by themselves.

A serve or worker process killed (OOM, a reboot, SIGKILL) leaves its run Running for good,
or Suspended without the form that lets anyone resume it. Every few minutes this sweep
replays the silent ones from the top (gates already decided return their decisions, an
answer already given is applied), wakes the half-suspended ones so they suspend again
properly, and after a few replays gives up loudly instead of looping. What it did is a
`run_recovery` row each and the table artifact `recover-runs-last-actions`.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from flows.naming import clock
from tasks.recovery import (
    find_stranded_runs_task,
    publish_recovery_actions_task,
    recover_stranded_runs_task,
)


@flow(name="recover-runs", flow_run_name="recovery · stranded runs", log_prints=False)
def recover_runs(
    now: datetime | None = None, deployments: list[str] | None = None
) -> dict[str, int]:
    """Replay runs whose process died; wake runs that died while suspending. `deployments`
    limits the sweep to those deployment names (default: every deployment)."""
    settings = get_settings()
    now = clock(now)
    stranded = find_stranded_runs_task(now, deployments, settings=settings)
    done = recover_stranded_runs_task(stranded, now, settings=settings) if stranded else []
    if done:
        publish_recovery_actions_task(done, now)
    counts = {"found": len(stranded)}
    for r in done:
        counts[r.action] = counts.get(r.action, 0) + 1
    return counts
