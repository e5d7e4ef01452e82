"""Weekly: segment members (active / sleeping / lost), report the segments per club and
region, and invite newly sleeping members to their club's next activity."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.segments import (
    invite_sleeping_members_task,
    publish_segments,
    segment_members_task,
)
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-segmentation",
    flow_run_name=daily_run_name("members", "segmentation"),
    log_prints=False,
)
def segment_members(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    as_of = run_day(now)
    report = segment_members_task(as_of=as_of, now=now)
    invitations = invite_sleeping_members_task(as_of=as_of, now=now)
    deliver_notifications_task(now)
    publish_segments(as_of, report, invitations)
    return {
        "changed": report.changed,
        "invited": len(invitations.invited),
        "reactivated": report.reactivated,
    }
