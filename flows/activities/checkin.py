"""Check-in (签到): import who came. Unregistered members are registered on the spot; a member
checked in twice counts once; re-importing the same file changes nothing."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from tasks.activities.checkin import CheckinRow
from tasks.activities.steps import check_in_task, read_activity_task
from tasks.gates import label_run_task


@flow(name="activity-checkin", flow_run_name=code_run_name("checkin"), log_prints=False)
def activity_checkin(
    code: str, rows: list[CheckinRow], now: datetime | None = None, source: str = "csv"
) -> dict[str, int]:
    activity = read_activity_task(code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · checkin", activity.tags)
    report = check_in_task(code, rows, now, source)
    return {
        "rows": report.rows,
        "participants": report.participants,
        "newly_checked_in": report.newly_checked_in,
        "newly_registered": report.newly_registered,
        "already_checked_in": report.already_checked_in,
    }
