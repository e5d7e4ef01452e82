"""Deliver the outbox: every minute, and right after a flow queues something urgent."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from tasks.outbox import deliver_notifications_task


@flow(name="deliver-notifications", flow_run_name="notifications · deliver", log_prints=False)
def deliver_notifications(now: datetime | None = None) -> dict[str, int]:
    """Send what is due; failures stay queued with their next attempt time."""
    report = deliver_notifications_task(now)
    if report.retried or report.dead:
        lines = "\n".join(f"- {e}" for e in report.errors[:50])
        create_markdown_artifact(
            key="outbox-failures",
            markdown=f"### Outbox: {report.retried} to retry, {report.dead} given up\n\n{lines}",
            description="Notifications that could not be delivered this minute",
        )
    return {
        "sent": report.sent,
        "retried": report.retried,
        "dead": report.dead,
        "waiting": report.waiting,
    }
