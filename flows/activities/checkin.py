"""Check-in (签到): import who came. Unregistered members are registered on the spot; a member
checked in twice counts once; re-importing the same file changes nothing.

Only the club's admins (or its dealer, `dealer:<code>`) check in. A refused import (the actor,
an activity not open, an unknown member) is recorded and the run ends Completed with the
refusal: it is an answer, not a failure to retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from domain.activities import CheckinRow
from flows.activities.naming import code_run_name
from flows.gates import current_flow_run_id
from flows.naming import clock
from tasks.activities.checkin import check_in_task, checkin_refusal_task
from tasks.activities.store import read_activity_task
from tasks.gates.runs import label_run_task


@flow(name="activity-checkin", flow_run_name=code_run_name("checkin"), log_prints=False)
def activity_checkin(
    code: str,
    rows: list[CheckinRow],
    by: str,
    now: datetime | None = None,
    source: str = "csv",
) -> dict[str, Any]:
    now = clock(now)
    refused = checkin_refusal_task(code=code, rows=rows, by=by, now=now)
    if refused:
        return {"refused": refused}
    activity = read_activity_task(code=code)
    label_run_task(current_flow_run_id(), f"{activity.run_label} · checkin", activity.tags)
    report = check_in_task(code=code, rows=rows, now=now, source=source)
    return {
        "rows": report.rows,
        "participants": report.participants,
        "newly_checked_in": report.newly_checked_in,
        "newly_registered": report.newly_registered,
        "already_checked_in": report.already_checked_in,
    }
