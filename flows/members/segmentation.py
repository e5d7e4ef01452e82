"""Weekly: segment members (active / sleeping / lost), report the segments per club and
region (with the churn reasons of call-backs), invite newly sleeping members to their club's
next activity, and open a call-back for each newly lost member."""

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
from tasks.retention.callbacks import open_callbacks_task, publish_callbacks


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
    callbacks = open_callbacks_task(now=now)
    deliver_notifications_task(now)
    publish_segments(as_of, report, invitations)
    publish_callbacks(callbacks)
    return {
        "changed": report.changed,
        "invited": len(invitations.invited),
        "reactivated": report.reactivated,
        "callbacks": len(callbacks.opened),
    }
