"""Agents' call lists: one CSV and one notification per agent and call day for the leads
assigned to them since their last list (never one message per lead).

Queueing the notification and marking the leads listed happen in one transaction, so a
crash between them cannot lose or double a list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
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


def write_call_list(path: Path, leads: list[tuple], *, times: _Isoformat | None = None) -> None:
    """`times`: a cache shared by the day's lists (arrival times repeat across agents)."""
    # The agent's own work file: it carries the full phone, like the agent's channel does.
    # Written in one go (one encode, one write) rather than row by row through the codec.
    arrived, days = times if times is not None else _Isoformat(), _Isoformat()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CALL_LIST_COLUMNS)
    writer.writerows(
        (lead_id, name, phone, model, city, source, arrived[at], days[call_day], days[third])
        for lead_id, name, phone, model, city, source, at, call_day, third in leads
    )
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


@paused_gc()
def queue_call_lists(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> CallListResult:
    """Write each agent's new call list (CSV) and queue one notification per list."""
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
        .order_by(Person.username, Lead.call_day, Lead.id)
    ).all()
    groups: dict[tuple, list[tuple]] = {}
    today = business_date(now)
    for username, agent_name, *lead in rows:
        # Leads stored without a plan (seeded, or from before this area) are due today.
        lead[7] = lead[7] or today
        lead[8] = lead[8] or lead[7] + timedelta(days=1)
        groups.setdefault((username, agent_name, lead[7]), []).append(tuple(lead))
    result = CallListResult()
    requests = []
    times = _Isoformat()
    if groups:
        days = [day for _, _, day in groups]
        hours = service_hours(session=session, settings=settings, start=min(days), end=max(days))
    for (username, agent_name, call_day), leads in groups.items():
        first_id = leads[0][0]
        path = export_dir(settings.leads_export_dir, call_day) / (
            f"calllist_{username}_{first_id}.csv"
        )
        write_call_list(path, leads, times=times)
        result.files.append(str(path))
        requests.append(
            NotificationRequest(
                recipient=f"person:{username}",
                template="leads_call_list",
                context={
                    "agent_name": agent_name,
                    "count": len(leads),
                    "call_day": call_day.isoformat(),
                    # The day's service hours: the whole day on a peak date.
                    "hours": "全天 24 小时（高峰日）"
                    if hours.is_peak(call_day)
                    else f"{hours.opens:%H:%M}–{hours.closes:%H:%M}",
                    "third_call_due": leads[0][8].isoformat(),
                    "csv_path": str(path),
                },
                idem_key=f"leads:calllist:{call_day.isoformat()}:{username}:{first_id}",
            )
        )
        result.lists += 1
        result.leads += len(leads)
    if requests:
        queue_notifications(
            session=session, requests=requests, now=now, settings=settings, channels=channels
        )
    if rows:
        # The same predicate as the select, bounded by its last id: no id list to bind.
        session.execute(
            update(Lead)
            .where(Lead.status == LeadStatus.open)
            .where(Lead.listed_at.is_(None))
            .where(Lead.agent_id.is_not(None))
            .where(Lead.id <= max(row[2] for row in rows))
            .values(listed_at=now),
            execution_options={"synchronize_session": False},
        )
    run_logger("leads").info("queued %s call lists covering %s leads", result.lists, result.leads)
    return result


queue_call_lists_task = data_task(queue_call_lists, retries=1, retry_delay_seconds=5)
