"""Weekly: segment members (active / sleeping / lost), report the segments per club and
region, and invite newly sleeping members to their club's next activity."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from domain.calendar import business_date
from flows.members.naming import clock, run_name
from tasks.members.segments import invite_sleeping_members_task, segment_members_task
from tasks.outbox import deliver_notifications_task


@flow(name="segment-members", flow_run_name=run_name("segmentation"), log_prints=False)
def segment_members(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    as_of = business_date(now)
    report = segment_members_task(as_of, now)
    invitations = invite_sleeping_members_task(as_of, now)
    deliver_notifications_task(now)

    for region_code in sorted({c.region_code for c in report.clubs if c.region_code}):
        create_table_artifact(
            key=f"member-segments-{region_code}",
            table=[
                {
                    "club": c.club,
                    "active": c.counts["active"],
                    "sleeping": c.counts["sleeping"],
                    "lost": c.counts["lost"],
                    "newly sleeping": c.newly_sleeping,
                    "reactivated": c.reactivated,
                }
                for c in report.clubs
                if c.region_code == region_code
            ],
            description=f"Member segments per club, {as_of.isoformat()}",
        )
    lines = [
        "| region | active | sleeping | lost | newly sleeping | reactivated |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for region, counts in report.by_region().items():
        lines.append(
            f"| {region} | {counts.get('active', 0)} | {counts.get('sleeping', 0)} | "
            f"{counts.get('lost', 0)} | {counts.get('newly_sleeping', 0)} | "
            f"{counts.get('reactivated', 0)} |"
        )
    create_markdown_artifact(
        key="member-segments",
        markdown=(
            f"### Member segments by region, {as_of.isoformat()}\n\n"
            + "\n".join(lines)
            + f"\n\nReactivation invitations sent: {len(invitations.invited)} "
            f"({invitations.to_activity} to a planned activity, {invitations.generic} generic)."
        ),
        description="Active / sleeping / lost members by region",
    )
    return {
        "changed": report.changed,
        "invited": len(invitations.invited),
        "reactivated": report.reactivated,
    }
