"""Deliver the outbox: every minute, and right after a flow queues something urgent."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from domain.privacy import mask_text
from tasks.outbox import dead_notifications_task, deliver_notifications_task


@flow(name="deliver-notifications", flow_run_name="notifications · deliver", log_prints=False)
def deliver_notifications(now: datetime | None = None) -> dict[str, int]:
    """Send what is due; failures stay queued with their next attempt time."""
    report = deliver_notifications_task(now)
    if report.retried or report.dead or report.deferred:
        lines = "\n".join(f"- {mask_text(e)}" for e in report.errors[:50])
        create_markdown_artifact(
            key="outbox-failures",
            markdown=(
                f"### Outbox: {report.retried} to retry, {report.deferred} deferred, "
                f"{report.dead} given up\n\n{lines}"
            ),
            description="Notifications that could not be delivered this minute",
        )
    dead = dead_notifications_task() if report.dead else []
    if dead:
        create_table_artifact(
            key="outbox-dead",
            table=[
                {
                    "id": d["id"],
                    "recipient": mask_text(d["recipient"]),
                    "template": d["template"],
                    "attempts": d["attempts"],
                    "last error": mask_text(d["last_error"]),
                }
                for d in dead
            ],
            description="Dead notifications: `clubflow outbox retry --dead --as <user>` re-queues",
        )
    return {
        "sent": report.sent,
        "retried": report.retried,
        "deferred": report.deferred,
        "dead": report.dead,
        "waiting": report.waiting,
        "alerts": report.alerts,
    }
