"""The portal's audit trail: every action taken in the portal (and every refusal) is a row,
with who, when, what, on what, from where. HQ reads it as a page and exports it as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from domain.models_portal import PortalAudit
from domain.privacy import mask_text

CSV_COLUMNS = ("at", "actor", "action", "subject", "outcome", "detail", "method", "path", "ip")


def record_action(
    *,
    session: Session,
    actor: str,
    action: str,
    now: datetime,
    subject: str = "",
    outcome: str = "ok",
    detail: str = "",
    method: str = "",
    path: str = "",
    ip: str = "",
    user_agent: str = "",
) -> PortalAudit:
    row = PortalAudit(
        at=now,
        actor=actor[:80],
        action=action[:64],
        subject=mask_text(subject)[:128],
        outcome=outcome,
        detail=mask_text(detail),
        method=method[:8],
        path=mask_text(path)[:256],
        ip=ip[:64],
        user_agent=user_agent[:256],
    )
    session.add(row)
    session.flush()
    return row


def audit_rows(
    *,
    session: Session,
    actor: str = "",
    action: str = "",
    outcome: str = "",
    limit: int = 200,
) -> list[PortalAudit]:
    query = select(PortalAudit).order_by(PortalAudit.id.desc()).limit(limit)
    if actor:
        query = query.where(PortalAudit.actor == actor)
    if action:
        query = query.where(PortalAudit.action.startswith(action))
    if outcome:
        query = query.where(PortalAudit.outcome == outcome)
    return list(session.execute(query).scalars())


def audit_csv(rows: list[PortalAudit], *, tz) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row.model_dump(), "at": row.at.astimezone(tz).isoformat(timespec="seconds")}
        writer.writerow([values[c] for c in CSV_COLUMNS])
    return out.getvalue()
