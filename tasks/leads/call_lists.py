"""Agents' call lists: one CSV and one notification per agent and call day for the leads
assigned to them since their last list (never one message per lead).

Queueing the notification and marking the leads listed happen in one transaction, so a
crash between them cannot lose or double a list.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.models import Lead, LeadStatus, Person
from tasks.common import data_task, run_logger
from tasks.leads.common import export_dir, paused_gc
from tasks.leads.roster import service_hours
from tasks.outbox import NotificationRequest, queue_notifications

CALL_LIST_COLUMNS = ["lead_id", "name", "phone", "model", "city", "source", "arrived_at",
                     "call_1_2_due", "call_3_due"]  # fmt: skip


@dataclass
class CallListResult:
    lists: int = 0
    leads: int = 0
    files: list[str] = field(default_factory=list)


class _Isoformat(dict):
    """value → value.isoformat(), once per distinct value (a list shares a few hundred)."""

    def __missing__(self, value: date | datetime) -> str:
        text = self[value] = value.isoformat()
        return text


class _ListFile:
    """One agent's list for one call day, written as its leads stream in (never all the day's
    leads in memory at once). The agent's own work file: it carries the full phone, like the
    agent's channel does. `times`: a cache shared by the day's lists (arrival times repeat
    across agents)."""

    def __init__(self, path: Path, first: tuple, times: _Isoformat) -> None:
        self.path, self.first_id, self.third = path, first[0], first[8]
        self.count = 0
        self.times, self.days = times, _Isoformat()
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(CALL_LIST_COLUMNS)

    def write(self, leads: list[tuple]) -> None:
        arrived, days = self.times, self.days
        self.writer.writerows(
            (lead_id, name, phone, model, city, source, arrived[at], days[call_day], days[third])
            for lead_id, name, phone, model, city, source, at, call_day, third in leads
        )
        self.count += len(leads)

    def close(self) -> None:
        self.handle.close()


@paused_gc()
def queue_call_lists(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> CallListResult:
    """Write each agent's new call list (CSV) and queue one notification per list."""
    today = business_date(now)
    # Leads stored without a plan (seeded, or from before this area) are due today.
    day = func.coalesce(Lead.call_day, today)
    rows = session.execute(
        select(
            Person.username,
            Person.name,
            Lead.id,
            Lead.name,
            Lead.phone,
            Lead.model,
            Lead.city,
            Lead.source,
            Lead.arrived_at,
            Lead.call_day,
            Lead.third_call_due,
        )
        .join(Person, Person.id == Lead.agent_id)
        .where(Lead.status == LeadStatus.open)
        .where(Lead.listed_at.is_(None))
        .order_by(Person.username, day, Lead.id)
        # Streamed in partitions: a list's leads are side by side in this order.
        .execution_options(yield_per=5000)
    )
    lists: dict[tuple, _ListFile] = {}
    current: _ListFile | None = None
    key: tuple | None = None
    times = _Isoformat()
    last_id = None
    for partition in rows.partitions():
        batch: list[tuple] = []
        for username, agent_name, *lead in partition:
            lead[7] = lead[7] or today
            lead[8] = lead[8] or lead[7] + timedelta(days=1)
            if (username, agent_name, lead[7]) != key:
                if current is not None:
                    current.write(batch)
                    current.close()
                batch, key = [], (username, agent_name, lead[7])
                path = export_dir(settings.leads_export_dir, lead[7]) / (
                    f"calllist_{username}_{lead[0]}.csv"
                )
                current = lists[key] = _ListFile(path, tuple(lead), times)
            batch.append(tuple(lead))
            last_id = lead[0] if last_id is None else max(last_id, lead[0])
        if current is not None:
            current.write(batch)
    if current is not None:
        current.close()
    result = CallListResult()
    requests = []
    if lists:
        days = [day for _, _, day in lists]
        hours = service_hours(session=session, settings=settings, start=min(days), end=max(days))
    for (username, agent_name, call_day), listed in lists.items():
        result.files.append(str(listed.path))
        requests.append(
            NotificationRequest(
                recipient=f"person:{username}",
                template="leads_call_list",
                context={
                    "agent_name": agent_name,
                    "count": listed.count,
                    "call_day": call_day.isoformat(),
                    # The day's service hours: the whole day on a peak date.
                    "hours": "全天 24 小时（高峰日）"
                    if hours.is_peak(call_day)
                    else f"{hours.opens:%H:%M}–{hours.closes:%H:%M}",
                    "third_call_due": listed.third.isoformat(),
                    "csv_path": str(listed.path),
                },
                idem_key=f"leads:calllist:{call_day.isoformat()}:{username}:{listed.first_id}",
            )
        )
        result.lists += 1
        result.leads += listed.count
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    if last_id is not None:
        # The same predicate as the select, bounded by its last id: no id list to bind.
        session.execute(
            update(Lead)
            .where(Lead.status == LeadStatus.open)
            .where(Lead.listed_at.is_(None))
            .where(Lead.agent_id.is_not(None))
            .where(Lead.id <= last_id)
            .values(listed_at=now),
            execution_options={"synchronize_session": False},
        )
    run_logger("leads").info("queued %s call lists covering %s leads", result.lists, result.leads)
    return result


queue_call_lists_task = data_task(queue_call_lists, retries=1, retry_delay_seconds=5)
