"""Daily at 09:00: the birthday greeting with the birthday-month benefit, once a year each."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from domain.calendar import business_date
from flows.members.naming import clock, run_name
from tasks.members.birthdays import queue_birthday_greetings_task
from tasks.outbox import deliver_notifications_task


@flow(name="send-birthday-greetings", flow_run_name=run_name("birthdays"), log_prints=False)
def send_birthday_greetings(now: datetime | None = None) -> dict[str, int]:
    now = clock(now)
    report = queue_birthday_greetings_task(business_date(now), now)
    deliver_notifications_task(now)
    return {"greeted": len(report.greeted), "queued": report.queued}
