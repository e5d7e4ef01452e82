"""Daily at 09:00: the birthday greeting with the birthday-month benefit and the tier's
birthday points, and the reminder a week before; each once a year."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.naming import clock, daily_run_name, run_day
from tasks.members.birthdays import queue_birthday_greetings_task
from tasks.outbox import deliver_notifications_task


@flow(
    name="members-birthdays", flow_run_name=daily_run_name("members", "birthdays"), log_prints=False
)
def send_birthday_greetings(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = queue_birthday_greetings_task(day=run_day(now), now=now)
    deliver_notifications_task(now)
    return {
        "greeted": len(report.greeted),
        "reminded": len(report.reminded),
        "points_granted": report.points_granted,
        "queued": report.queued,
    }
