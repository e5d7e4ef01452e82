"""Monthly: expire the points whose two years are up (oldest first, as ledger rows), then warn
members whose points expire within the next 30 days."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from domain.calendar import business_date
from flows.members.naming import clock, run_name
from tasks.members.expiry import expire_points_task, warn_expiring_points_task
from tasks.outbox import deliver_notifications_task


@flow(name="expire-member-points", flow_run_name=run_name("points expiry"), log_prints=False)
def expire_member_points(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    as_of = business_date(now)
    expired = expire_points_task(as_of, now)
    warned = warn_expiring_points_task(as_of, now)
    deliver_notifications_task(now)
    create_markdown_artifact(
        key="member-points-expiry",
        markdown=(
            f"### Points expiry {as_of.isoformat()}\n\n"
            f"| | members | points |\n|---|---:|---:|\n"
            f"| expired | {len(expired.members)} | {expired.points} |\n"
            f"| expiring within the warning days | {len(warned.members)} | {warned.points} |\n"
        ),
        description="Points expired this month and points warned about",
    )
    return {
        "expired_members": len(expired.members),
        "expired_points": expired.points,
        "warned_members": len(warned.members),
    }
