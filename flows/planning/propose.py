"""Submitted monthly plans become activity proposals: each starts the activity lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.deployments import run_deployment

from clubflow.core.settings import get_settings
from domain.activities import activity_code
from tasks.common import run_logger
from tasks.planning.submissions import list_submitted_plans_task, mark_plan_proposed_task

LIFECYCLE = "activity-lifecycle/activity-lifecycle"


@flow(
    name="propose-monthly-plans",
    flow_run_name="planning · monthly plans to proposals",
    description="Start the activity lifecycle for every submitted monthly plan, once.",
    log_prints=False,
)
def propose_monthly_plans(quarter: str | None = None, now: datetime | None = None) -> list[str]:
    """Each plan starts its own lifecycle run (reviews suspend there, not here). Given `now`,
    the lifecycle acts at it too; without one (the schedule) each run reads the clock."""
    settings = get_settings()
    started = []
    for submission_id, proposal in list_submitted_plans_task(quarter=quarter, settings=settings):
        parameters: dict[str, Any] = {"proposal": proposal}
        if now is not None:
            parameters["now"] = now.isoformat()
        # The idempotency key makes a re-run after a crash find the run it already started.
        run = run_deployment(
            LIFECYCLE,
            parameters=parameters,
            timeout=0,
            as_subflow=False,
            idempotency_key=f"monthly-plan-submission-{submission_id}",
        )
        code = activity_code(proposal["club"], proposal["starts_on"])
        mark_plan_proposed_task(submission_id=submission_id, activity_code=code, settings=settings)
        started.append(code)
        run_logger("planning").info(
            "plan #%s → activity %s (run %s)", submission_id, code, run.name
        )
    return started
