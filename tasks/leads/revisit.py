"""Weekly revisit: leads unconverted for over two months, listed once a week.

Unconverted means: a valid, interested lead handed to a dealer and not converted, closed more
than the policy's days ago; or a lead still open (appointments) that arrived that long ago.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.models import Lead, LeadStatus, Person, Role
from domain.models_leads import LeadRevisit
from tasks.common import data_task, run_logger
from tasks.leads.common import export_dir
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class RevisitResult:
    week_of: date
    listed: int = 0
    by_recipient: dict[str, int] = field(default_factory=dict)


def list_revisits(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> RevisitResult:
    today = business_date(now)
    week_of = today - timedelta(days=today.weekday())
    cutoff = now - timedelta(days=settings.leads_revisit_after_days)
    rows = session.execute(
        select(Lead.id, Lead.name, Lead.phone, Lead.city, Lead.outcome, Lead.agent_id)
        .where(Lead.converted_at.is_(None))
        .where(
            or_(
                and_(
                    Lead.status == LeadStatus.valid,
                    Lead.outcome == "interested",
                    Lead.closed_at < cutoff,
                ),
                and_(Lead.status == LeadStatus.open, Lead.arrived_at < cutoff),
            )
        )
        .order_by(Lead.id)
    ).all()
    result = RevisitResult(week_of=week_of)
    if not rows:
        return result
    new_ids = set(
        insert_ignoring_conflicts(
            session,
            LeadRevisit,
            [
                {"lead_id": r.id, "week_of": week_of, "agent_id": r.agent_id, "listed_at": now}
                for r in rows
            ],
            on=["lead_id", "week_of"],
        )
    )
    result.listed = len(new_ids)
    agents = dict(
        session.execute(
            select(Person.id, Person.username).where(Person.role == Role.call_agent)
        ).all()
    )
    groups: dict[str, list] = {}
    for row in rows:
        username = agents.get(row.agent_id)
        recipient = f"person:{username}" if username else "role:call_supervisor"
        groups.setdefault(recipient, []).append(row)
    folder = export_dir(settings.leads_export_dir, week_of)
    requests = []
    for recipient, leads in sorted(groups.items()):
        path = folder / f"revisit_{recipient.replace(':', '_')}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["lead_id", "name", "phone", "city", "outcome"])
            writer.writerows([r.id, r.name, r.phone, r.city, r.outcome or ""] for r in leads)
        result.by_recipient[recipient] = len(leads)
        requests.append(
            NotificationRequest(
                recipient=recipient,
                template="leads_revisit",
                context={
                    "week_of": week_of.isoformat(),
                    "count": len(leads),
                    "days": settings.leads_revisit_after_days,
                    "csv_path": str(path),
                },
                idem_key=f"leads:revisit:{week_of.isoformat()}:{recipient}",
            )
        )
    queue_notifications(
        session=session, requests=requests, now=now, settings=settings, channels=channels
    )
    run_logger("leads").info(
        "week of %s: %s leads to revisit", result.week_of, sum(result.by_recipient.values())
    )
    return result


# Put this week's unconverted leads on the revisit list and tell their agents.
list_revisits_task = data_task(list_revisits, retries=1, retry_delay_seconds=5)
