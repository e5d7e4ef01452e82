"""Deliver the outbox once, on demand (the delivery loop of clubflow/delivery.py delivers
as a rule; this deployment has no schedule and is its pause switch)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from clubflow.core.settings import get_settings
from tasks.outbox import (
    dead_notifications_task,
    deliver_notifications_task,
    publish_delivery_report_task,
)


@flow(name="deliver-notifications", flow_run_name="notifications · deliver", log_prints=False)
def deliver_notifications(now: datetime | None = None) -> dict[str, int]:
    """Send what is due; failures stay queued with their next attempt time."""
    settings = get_settings()
    # `now` stays empty on schedule: each retry of the task reads its own clock.
    report = deliver_notifications_task(now, settings=settings)
    if report.retried or report.dead or report.deferred:
        dead = dead_notifications_task(settings=settings) if report.dead else []
        publish_delivery_report_task(report, dead)
    return {
        "sent": report.sent,
        "retried": report.retried,
        "deferred": report.deferred,
        "dead": report.dead,
        "waiting": report.waiting,
        "alerts": report.alerts,
    }
