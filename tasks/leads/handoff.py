"""Dealer hand-off of valid, interested leads: round robin per city, acceptance, bounce.

Each round is a LeadHandoff row (unique lead_id, round) and its notification key names the
round (`leads:handoff:<lead>:<round>`), queued in the same transaction: a re-run after a crash
neither hands a lead twice nor notifies a dealer twice. The dealer's message carries the phone
(their own channel); the returned summaries and logs carry it masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from blocks.channels import NotificationChannels
from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.calendar import BUSINESS_TZ
from domain.leads_plan import handoff_deadline, next_dealer
from domain.models import Dealer, Lead, LeadStatus
from domain.models_leads import DealerRotation, LeadHandoff
from domain.outlets import OutletCover, outlet_for_city
from domain.privacy import mask_phone, mask_text
from tasks.common import data_task, run_logger
from tasks.leads.common import LeadsError
from tasks.outbox import NotificationRequest, queue_notifications
from tasks.outlets.store import active_covers


@dataclass
class HandoffResult:
    handed: int = 0
    bounced: int = 0
    to_specialist: int = 0
    # (lead id, masked phone, recipient) for artifacts
    rows: list[tuple[int, str, str]] = field(default_factory=list)


def _dealers_by_city(session: Session, cities: set[str]) -> dict[str, dict[str, Dealer]]:
    found: dict[str, dict[str, Dealer]] = {}
    for dealer in session.execute(
        select(Dealer).where(Dealer.city.in_(cities)).where(Dealer.active.is_(True))
    ).scalars():
        found.setdefault(dealer.city, {})[dealer.code] = dealer
    return found


def _rotation(session: Session, cities: set[str]) -> dict[str, DealerRotation]:
    rows = session.execute(select(DealerRotation).where(DealerRotation.city.in_(cities)))
    return {row.city: row for row in rows.scalars()}


def _give(
    *,
    session: Session,
    lead: Lead,
    round_no: int,
    dealers: dict[str, Dealer],
    rotation: dict[str, DealerRotation],
    tried: set[str],
    now: datetime,
    settings: Settings,
    result: HandoffResult,
    outlet: OutletCover | None = None,
) -> NotificationRequest:
    """Create the lead's next hand-off round and the message announcing it."""
    cursor = rotation.get(lead.city)
    if outlet is not None:
        # The city is an active outlet's: its parent dealer gets the lead, outlet named, and
        # forwards it (the city's round robin is not moved).
        code = outlet.dealer_code
    else:
        code = next_dealer(
            list(dealers), last=cursor.last_dealer_code if cursor else None, exclude=tried
        )
    context = {
        "lead_id": lead.id,
        "name": lead.name or "—",
        "phone": lead.phone,  # the recipient's own channel; never logged or shown elsewhere
        "model": lead.model or "—",
        "city": lead.city,
        "source": lead.source,
        "round": round_no,
        "outlet": f"{outlet.name}（{outlet.code}）" if outlet else "",
        # The signed deep link to the lead's page: the dealer accepts or returns it there.
        "link": portal_link(f"/leads/{lead.id}", settings=settings, now=now),
    }
    if code is not None:
        dealer = dealers[code]
        due_at = handoff_deadline(now, working_days=settings.handoff_accept_working_days)
        recipient = f"dealer:{code}"
        if outlet is None:
            if cursor is None:
                cursor = rotation[lead.city] = DealerRotation(city=lead.city)
                session.add(cursor)
            cursor.last_dealer_code = code
        lead.outlet_code = outlet.code if outlet else None
        handoff = LeadHandoff(
            lead_id=lead.id,
            round=round_no,
            dealer_id=dealer.id,
            recipient=recipient,
            handed_at=now,
            due_at=due_at,
        )
        lead.dealer_id = dealer.id
        lead.handoff_due_on = due_at.astimezone(BUSINESS_TZ).date()
        template = "leads_handoff"
        context.update(
            dealer_name=dealer.name,
            due=due_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
            bounced=bool(tried),
        )
        if tried:
            result.bounced += 1
    else:
        # No dealer of the city left: the region's specialist places the lead by hand.
        recipient = f"role:regional_specialist:{lead.region_code}"
        handoff = LeadHandoff(
            lead_id=lead.id, round=round_no, dealer_id=None, recipient=recipient, handed_at=now
        )
        lead.dealer_id = None
        lead.handoff_due_on = None
        template = "leads_handoff_specialist"
        context.update(tried=len(tried))
        result.to_specialist += 1
    session.add(handoff)
    lead.handoff_round = round_no
    lead.handed_off_at = now
    session.add(lead)
    result.rows.append((lead.id, mask_phone(lead.phone), recipient))
    return NotificationRequest(
        recipient=recipient,
        template=template,
        context=context,
        idem_key=f"leads:handoff:{lead.id}:{round_no}",
        urgent=True,  # the dealer is told at once, quiet hours or not
    )


def hand_off_valid_leads(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> HandoffResult:
    """Every valid, interested lead not yet handed goes to the next dealer of its city."""
    leads = list(
        session.execute(
            select(Lead)
            .where(Lead.status == LeadStatus.valid)
            .where(Lead.outcome == "interested")
            .where(Lead.handoff_round == 0)
            .order_by(Lead.id)
        ).scalars()
    )
    result = HandoffResult()
    if not leads:
        return result
    cities = {lead.city for lead in leads}
    dealers = _dealers_by_city(session, cities)
    rotation = _rotation(session, cities)
    covers = active_covers(session=session, cities=cities)
    parents = {
        d.code: d
        for d in session.execute(
            select(Dealer).where(Dealer.code.in_({c.dealer_code for c in covers}))
        ).scalars()
    }
    requests = []
    for lead in leads:
        outlet = outlet_for_city(lead.city, covers)
        requests.append(
            _give(
                session=session,
                lead=lead,
                round_no=1,
                dealers={outlet.dealer_code: parents[outlet.dealer_code]}
                if outlet
                else dealers.get(lead.city, {}),
                rotation=rotation,
                tried=set(),
                now=now,
                settings=settings,
                result=result,
                outlet=outlet,
            )
        )
    result.handed = len(leads)
    session.flush()
    queue_notifications(
        session=session, requests=requests, now=now, settings=settings, channels=channels
    )
    run_logger("leads").info("handed %s leads to dealers", result.handed)
    return result


def bounce_overdue_handoffs(
    *,
    session: Session,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> HandoffResult:
    """Rounds not accepted by their deadline go to the next dealer of the city, or the
    region's specialist when every dealer of the city has let it pass."""
    overdue = list(
        session.execute(
            select(LeadHandoff)
            .where(LeadHandoff.accepted_at.is_(None))
            .where(LeadHandoff.bounced_at.is_(None))
            .where(LeadHandoff.due_at.is_not(None))
            .where(LeadHandoff.due_at < now)
            .order_by(LeadHandoff.lead_id)
        ).scalars()
    )
    result = HandoffResult()
    if not overdue:
        return result
    lead_ids = [h.lead_id for h in overdue]
    leads = {
        lead.id: lead
        for lead in session.execute(select(Lead).where(Lead.id.in_(lead_ids))).scalars()
    }
    tried: dict[int, set[str]] = {}
    for lead_id, recipient in session.execute(
        select(LeadHandoff.lead_id, LeadHandoff.recipient).where(LeadHandoff.lead_id.in_(lead_ids))
    ).all():
        if recipient.startswith("dealer:"):
            tried.setdefault(lead_id, set()).add(recipient.removeprefix("dealer:"))
    cities = {lead.city for lead in leads.values()}
    dealers = _dealers_by_city(session, cities)
    rotation = _rotation(session, cities)
    requests = []
    for handoff in overdue:
        handoff.bounced_at = now
        session.add(handoff)
        lead = leads[handoff.lead_id]
        requests.append(
            _give(
                session=session,
                lead=lead,
                round_no=handoff.round + 1,
                dealers=dealers.get(lead.city, {}),
                rotation=rotation,
                tried=tried.get(lead.id, set()),
                now=now,
                settings=settings,
                result=result,
            )
        )
    session.flush()
    queue_notifications(
        session=session, requests=requests, now=now, settings=settings, channels=channels
    )
    run_logger("leads").info(
        "bounced %s hand-offs to the next dealer, %s to specialists",
        result.bounced,
        result.to_specialist,
    )
    return result


def accept_handoff(*, session: Session, lead_id: int, dealer_code: str, now: datetime) -> Lead:
    """The dealer of the lead's current round accepts it; anyone else is refused by name."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise LeadsError(f"lead {lead_id} does not exist")
    current = session.execute(
        select(LeadHandoff)
        .where(LeadHandoff.lead_id == lead_id)
        .order_by(LeadHandoff.round.desc())
        .limit(1)
    ).scalar_one_or_none()
    if current is None:
        raise LeadsError(f"lead {lead_id} has not been handed to a dealer")
    if current.recipient != f"dealer:{dealer_code}":
        raise LeadsError(
            f"lead {lead_id} is with {current.recipient} (round {current.round}), "
            f"not dealer:{dealer_code}"
        )
    if current.accepted_at is not None:
        return lead  # accepting twice is harmless
    if current.due_at is not None and current.due_at < now:
        raise LeadsError(
            f"lead {lead_id}: the deadline {current.due_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}"
            " has passed; it goes to the next dealer"
        )
    current.accepted_at = now
    current.accepted_by = dealer_code
    lead.accepted_at = now
    session.add_all([current, lead])
    return lead


def current_round(*, session: Session, lead_id: int) -> LeadHandoff | None:
    """The lead's latest hand-off round (None before its first)."""
    return session.execute(
        select(LeadHandoff)
        .where(LeadHandoff.lead_id == lead_id)
        .order_by(LeadHandoff.round.desc())
        .limit(1)
    ).scalar_one_or_none()


def return_handoff(
    *,
    session: Session,
    lead_id: int,
    dealer_code: str,
    reason: str,
    now: datetime,
    settings: Settings,
    channels: NotificationChannels | None = None,
) -> LeadHandoff:
    """The dealer of the lead's current round hands it back (with why): the next dealer of
    the city gets the next round at once, or the region's specialist when none is left.
    Refused by name if it is not that dealer's round, already accepted, or past its deadline
    (then the sweep moves it). Returns the new round."""
    reason = reason.strip()
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise LeadsError(f"lead {lead_id} does not exist")
    if not reason:
        raise LeadsError(f"lead {lead_id}: a return needs a reason")
    current = current_round(session=session, lead_id=lead_id)
    if current is None:
        raise LeadsError(f"lead {lead_id} has not been handed to a dealer")
    if current.recipient != f"dealer:{dealer_code}" or current.bounced_at is not None:
        raise LeadsError(
            f"lead {lead_id} is with {current.recipient} (round {current.round}), "
            f"not dealer:{dealer_code}"
        )
    if current.accepted_at is not None:
        raise LeadsError(
            f"lead {lead_id} was accepted by dealer {current.accepted_by} and cannot be returned"
        )
    if current.due_at is not None and current.due_at < now:
        raise LeadsError(
            f"lead {lead_id}: the deadline {current.due_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}"
            " has passed; it goes to the next dealer"
        )
    current.bounced_at = now
    current.returned_reason = mask_text(reason)[:500]  # shown on pages: no phone or ID
    session.add(current)
    tried = {
        r.removeprefix("dealer:")
        for r in session.execute(
            select(LeadHandoff.recipient).where(LeadHandoff.lead_id == lead_id)
        ).scalars()
        if r.startswith("dealer:")
    }
    result = HandoffResult()
    request = _give(
        session=session,
        lead=lead,
        round_no=current.round + 1,
        dealers=_dealers_by_city(session, {lead.city}).get(lead.city, {}),
        rotation=_rotation(session, {lead.city}),
        tried=tried,
        now=now,
        settings=settings,
        result=result,
    )
    session.flush()
    queue_notifications(
        session=session, requests=[request], now=now, settings=settings, channels=channels
    )
    run_logger("leads").info(
        "lead %s returned by dealer %s; round %s to %s",
        lead_id,
        dealer_code,
        current.round + 1,
        request.recipient,
    )
    return current_round(session=session, lead_id=lead_id)


def record_acceptance(
    *, session: Session, lead_id: int, dealer_code: str, now: datetime
) -> dict[str, str | int]:
    """A dealer's acceptance, as the form's run returns it (phone masked)."""
    lead = accept_handoff(session=session, lead_id=lead_id, dealer_code=dealer_code, now=now)
    run_logger("leads").info("lead %s accepted by dealer %s", lead_id, dealer_code)
    return {"lead_id": lead.id, "dealer": dealer_code, "phone": mask_phone(lead.phone)}


# Hand every new valid, interested lead to a dealer of its city (round robin).
hand_off_leads_task = data_task(
    hand_off_valid_leads, name="hand-off-leads", retries=1, retry_delay_seconds=5
)
# Hand-offs past their acceptance deadline go to the next dealer or the specialist.
bounce_overdue_handoffs_task = data_task(bounce_overdue_handoffs, retries=1, retry_delay_seconds=5)
# Refused (naming why) if it is not the dealer's lead or too late.
accept_handoff_task = data_task(record_acceptance, name="accept-handoff")
