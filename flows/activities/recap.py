"""The recap (活动总结): filed once after the end, rendered as a markdown artifact and an HTML
file with the participants table (phones masked)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from domain.activities import RecapInput
from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from flows.naming import clock
from tasks.activities.recap import file_recap_task, publish_recap, render_recap_task
from tasks.activities.store import read_activity_task
from tasks.gates.runs import label_run_task


@flow(name="activity-recap", flow_run_name=code_run_name("recap"), log_prints=False)
def activity_recap(code: str, recap: RecapInput, now: datetime | None = None) -> str:
    """File the recap and render the report; returns the HTML file's path."""
    now = clock(now)
    activity = read_activity_task(code=code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · recap", activity.tags)
    filed = file_recap_task(code=code, recap=recap, now=now)
    markdown, path = render_recap_task(code=code)
    publish_recap(activity, filed, markdown)
    return path
