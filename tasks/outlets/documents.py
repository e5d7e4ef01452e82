"""The daily document sweep: a reminder before an outlet's document expires (once per
document and expiry date), and an active outlet suspended the day after one expired. The
parent dealer is told both (it passes them on to its outlet: the outlet has no channel of
its own in clubflow), and the regional specialist is told of a suspension."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.models import Dealer
from domain.models_outlets import Outlet, OutletDocument, OutletStatus
from domain.outlets import DOCUMENT_TITLES, expired, mask_number, reminder_due
from tasks.common import data_task
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class SweepResult:
    reminded: list[str] = field(default_factory=list)  # outlet:kind
    suspended: list[str] = field(default_factory=list)  # outlet codes


def sweep_outlet_documents(
    *, session: Session, today: date, now: datetime, settings: Settings
) -> SweepResult:
    rows = session.execute(
        select(OutletDocument, Outlet, Dealer)
        .join(Outlet, Outlet.id == OutletDocument.outlet_id)
        .join(Dealer, Dealer.id == Outlet.dealer_id)
        .where(Outlet.status != OutletStatus.rejected)
        .order_by(Outlet.code, OutletDocument.kind)
    ).all()
    result = SweepResult()
    requests: list[NotificationRequest] = []
    for doc, outlet, dealer in rows:
        base = {
            "outlet": outlet.code,
            "outlet_name": outlet.name,
            "dealer_name": dealer.name,
            "document": DOCUMENT_TITLES[doc.kind],
            "kind": str(doc.kind),
            "number": mask_number(doc.number),
            "expires_on": doc.expires_on.isoformat(),
        }
        if doc.reminded_for != doc.expires_on and reminder_due(
            doc.expires_on, today=today, reminder_days=settings.outlet_document_reminder_days
        ):
            doc.reminded_for = doc.expires_on
            session.add(doc)
            result.reminded.append(f"{outlet.code}:{doc.kind}")
            requests.append(
                NotificationRequest(
                    recipient=f"dealer:{dealer.code}",
                    template="outlet_document_expiring",
                    context=base,
                    idem_key=f"outlet:{outlet.code}:{doc.kind}:{doc.expires_on}:expiring",
                )
            )
        if outlet.status == OutletStatus.active and expired(doc.expires_on, today=today):
            outlet.status = OutletStatus.suspended
            session.add(outlet)
            result.suspended.append(outlet.code)
            context = {**base, "today": today.isoformat()}
            key = f"outlet:{outlet.code}:{doc.kind}:{doc.expires_on}:suspended"
            for recipient in (
                f"dealer:{dealer.code}",
                f"role:regional_specialist:{dealer.region_code}",
            ):
                requests.append(
                    NotificationRequest(
                        recipient=recipient,
                        template="outlet_suspended",
                        context=context,
                        idem_key=f"{key}:{recipient}",
                    )
                )
    session.flush()
    queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return result


sweep_outlet_documents_task = data_task(sweep_outlet_documents)
