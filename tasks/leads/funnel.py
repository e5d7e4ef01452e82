"""The conversion funnel: lead → valid → accepted → visited → order, by source, city, dealer
(and outlet under its dealer) and agent, with the median time spent at each step.
Aggregates only: no phone.

A cohort is the leads that arrived on the business days `start`..`end`; a step counts once it
happened by `as_of` (so the funnel of a past day reads the same on every later run). A lead
that reached a later stage without recording the visit (an order straight away) counts as
visited: an order is placed at the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median

from sqlalchemy import select
from sqlmodel import Session

from domain.deals import RANK, DealStage
from domain.models import Dealer, Lead, LeadStatus, Person
from domain.models_deals import LeadFollowUp
from tasks.common import chunks

STEPS = ("leads", "valid", "accepted", "visited", "orders")
# The time between two steps (hours), by the name of the step it ends in.
WAITS = ("valid", "accepted", "visited", "orders")
DIMENSIONS = {
    "source": "来源",
    "city": "城市",
    "dealer": "经销商",
    # A lead handed on through a second-tier outlet counts for its parent dealer; this
    # dimension splits each dealer's leads into its own (本店) and each outlet's.
    "outlet": "经销商 / 二网",
    "agent": "客服",
}
OWN = "本店"


@dataclass
class FunnelRow:
    key: str
    leads: int = 0
    valid: int = 0
    accepted: int = 0
    visited: int = 0
    orders: int = 0

    @property
    def conversion(self) -> float:
        return self.orders / self.leads if self.leads else 0.0


@dataclass
class Funnel:
    start: date
    end: date
    as_of: datetime
    total: FunnelRow = field(default_factory=lambda: FunnelRow("total"))
    by: dict[str, list[FunnelRow]] = field(default_factory=dict)
    # Median hours from the previous step to this one: valid, accepted, visited, orders.
    median_hours: dict[str, float | None] = field(default_factory=dict)


def _visits(session: Session, lead_ids: list[int], as_of: datetime) -> dict[int, datetime]:
    """Per lead, when it first reached the visit or a later stage (by `as_of`)."""
    later = [s.value for s in RANK if RANK[s] >= RANK[DealStage.visited]]
    first: dict[int, datetime] = {}
    for batch in chunks(lead_ids):
        for lead_id, at in session.execute(
            select(LeadFollowUp.lead_id, LeadFollowUp.at).where(
                LeadFollowUp.lead_id.in_(batch),
                LeadFollowUp.stage.in_(later),
                LeadFollowUp.at <= as_of,
            )
        ).all():
            if lead_id not in first or at < first[lead_id]:
                first[lead_id] = at
    return first


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() / 3600 if a is not None and b is not None else None


def deal_funnel(*, session: Session, start: date, end: date, as_of: datetime) -> Funnel:
    funnel = Funnel(start=start, end=end, as_of=as_of)
    dealers = dict(session.execute(select(Dealer.id, Dealer.code)).all())
    agents = dict(session.execute(select(Person.id, Person.username)).all())
    leads = session.execute(
        select(
            Lead.id,
            Lead.source,
            Lead.city,
            Lead.dealer_id,
            Lead.outlet_code,
            Lead.agent_id,
            Lead.status,
            Lead.arrived_at,
            Lead.closed_at,
            Lead.accepted_at,
            Lead.converted_at,
        ).where(Lead.business_day >= start, Lead.business_day <= end)
    ).all()
    visits = _visits(session, [lead.id for lead in leads], as_of)
    rows: dict[str, dict[str, FunnelRow]] = {name: {} for name in DIMENSIONS}
    waits: dict[str, list[float]] = {name: [] for name in WAITS}

    def by(when: datetime | None) -> datetime | None:
        return when if when is not None and when <= as_of else None

    for lead in leads:
        if lead.arrived_at > as_of:
            continue
        valid = by(lead.closed_at) if lead.status == LeadStatus.valid else None
        accepted = by(lead.accepted_at)
        visited = visits.get(lead.id) if accepted else None
        ordered = by(lead.converted_at) if accepted else None
        reached = {
            "leads": True,
            "valid": valid is not None,
            "accepted": accepted is not None,
            "visited": visited is not None,
            "orders": ordered is not None,
        }
        dealer = dealers.get(lead.dealer_id, "—")
        keys = {
            "source": lead.source,
            "city": lead.city,
            "dealer": dealer,
            "outlet": f"{dealer} / {lead.outlet_code or OWN}" if lead.dealer_id else "—",
            "agent": agents.get(lead.agent_id, "—"),
        }
        for target in [funnel.total] + [
            rows[name].setdefault(key, FunnelRow(key)) for name, key in keys.items()
        ]:
            for step in STEPS:
                setattr(target, step, getattr(target, step) + reached[step])
        for name, hours in (
            ("valid", _hours(lead.arrived_at, valid)),
            ("accepted", _hours(valid, accepted)),
            ("visited", _hours(accepted, visited)),
            ("orders", _hours(visited, ordered)),
        ):
            if hours is not None:
                waits[name].append(max(hours, 0.0))
    funnel.by = {name: sorted(found.values(), key=_order(name)) for name, found in rows.items()}
    funnel.median_hours = {
        name: round(median(values), 1) if values else None for name, values in waits.items()
    }
    return funnel


def _order(name: str):
    """Largest first; the outlet rows stay under their dealer, its own leads first."""
    if name == "outlet":
        return lambda r: (r.key.split(" / ")[0], not r.key.endswith(f" / {OWN}"), r.key)
    return lambda r: (-r.leads, r.key)


def duration(hours: float | None) -> str:
    """A wait as a person reads it: hours up to two days, then days."""
    if hours is None:
        return "—"
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"
