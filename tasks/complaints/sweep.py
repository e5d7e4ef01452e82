"""The complaints sweep: a late stage is escalated once per level (1: the handler or the
receiving desk; 2: the call supervisor and HQ), and an answered complaint the member has not
confirmed closes by itself after the setting's working days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.complaints import STAGE_OF, ComplaintStatus, auto_close_due, escalation_level
from domain.models_complaints import Complaint, ComplaintAction, ComplaintEscalation
from tasks.outbox import NotificationRequest, queue_notifications

STAGE_LABELS = {"receive": "受理", "handle": "处理", "answer": "答复"}


@dataclass
class SweepSummary:
    escalated: int = 0
    closed: int = 0


def _recipients(complaint: Complaint, stage: str, level: int) -> list[str]:
    if level >= 2:
        return ["role:call_supervisor", "role:campaign_manager"]
    if stage != "receive" and complaint.handler:
        return [f"person:{complaint.handler}"]
    return ["role:call_agent"]


def sweep_complaints(*, session: Session, now: datetime, settings: Settings) -> SweepSummary:
    today = business_date(now)
    summary = SweepSummary()
    open_ = (
        session.execute(
            select(Complaint).where(Complaint.status.in_(list(STAGE_OF))).order_by(Complaint.id)
        )
        .scalars()
        .all()
    )
    requests: list[NotificationRequest] = []
    for complaint in open_:
        stage = STAGE_OF[ComplaintStatus(complaint.status)]
        due_on = getattr(complaint, f"{stage}_due")
        level = escalation_level(
            due_on, today, second_after_days=settings.complaint_second_escalation_days
        )
        if level:
            complaint.late = True
        for lv in range(1, level + 1):
            inserted = insert_ignoring_conflicts(
                session,
                ComplaintEscalation,
                [{"complaint_id": complaint.id, "stage": stage, "level": lv, "at": now}],
                on=["complaint_id", "stage", "level"],
            )
            if not inserted:
                continue
            summary.escalated += 1
            for recipient in _recipients(complaint, stage, lv):
                requests.append(
                    NotificationRequest(
                        recipient=recipient,
                        template="complaint_late",
                        context={
                            "id": complaint.id,
                            "subject": complaint.subject,
                            "stage": STAGE_LABELS[stage],
                            "level": lv,
                            "due_on": due_on.isoformat(),
                            "link": portal_link(
                                f"/complaints/{complaint.id}", settings=settings, now=now
                            ),
                        },
                        idem_key=f"complaint:{complaint.id}:late:{stage}:{lv}:{recipient}",
                    )
                )
    answered = (
        session.execute(select(Complaint).where(Complaint.status == ComplaintStatus.answered))
        .scalars()
        .all()
    )
    for complaint in answered:
        if today >= auto_close_due(complaint.answered_at, settings.complaint_auto_close_days):
            complaint.status = ComplaintStatus.closed
            complaint.closed_at, complaint.closed_by = now, "auto"
            session.add(
                ComplaintAction(
                    complaint_id=complaint.id,
                    kind="close",
                    by="auto",
                    at=now,
                    note="no reply from the member",
                )
            )
            summary.closed += 1
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    session.commit()
    return summary
