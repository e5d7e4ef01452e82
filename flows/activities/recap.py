"""The recap (活动总结): filed once after the end, rendered as a markdown artifact and an HTML
file with the participants table (phones masked)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from tasks.activities.recap import RecapInput
from tasks.activities.steps import file_recap_task, read_activity_task, render_recap_task
from tasks.gates.runs import label_run_task


@flow(name="activity-recap", flow_run_name=code_run_name("recap"), log_prints=False)
def activity_recap(code: str, recap: RecapInput, now: datetime | None = None) -> str:
    """File the recap and render the report; returns the HTML file's path."""
    activity = read_activity_task(code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · recap", activity.tags)
    filed = file_recap_task(code, recap, now)
    markdown, path = render_recap_task(code)
    create_markdown_artifact(
        key=f"activity-{code.lower()}-recap",
        markdown=markdown,
        description=f"{activity.run_label}: recap, {filed.participants} participants",
    )
    return path
