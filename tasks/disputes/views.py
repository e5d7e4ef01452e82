"""What the disputes and incidents pages read: each case with the party dealer and region it
belongs to (an outlet counts for its parent dealer), the step due and its deadline, and the
timeline of every step (who, when, what). Read-only; the steps themselves are in cases.py and
incidents.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from domain.models import Activity, Dealer, Person
from domain.models_disputes import (
    Dispute,
    DisputeEscalation,
    DisputeStep,
    Incident,
    IncidentAction,
)
from domain.models_outlets import Outlet

OPEN_DISPUTES = ("filed", "mediating")
# The step a dispute waits on, by status: (step, the deadline's column).
DUE_STEP = {"filed": ("acknowledge", "ack_due_at"), "mediating": ("resolve", "resolve_due_at")}


@dataclass(frozen=True)
class DisputeLine:
    dispute: Dispute
    dealer_code: str | None  # the party dealer, or the outlet's parent
    region_code: str | None
    step: str | None  # acknowledge / resolve, None once closed
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    by: str
    step: str  # file / acknowledge / meeting / proposal / escalate / settle / litigate
    what: str
    held_on: date | None = None


def _outlet_dealers(session: Session) -> dict[str, int]:
    """Outlet code and name → its parent dealer's id."""
    found: dict[str, int] = {}
    for code, name, dealer_id in session.execute(
        select(Outlet.code, Outlet.name, Outlet.dealer_id)
    ).all():
        found[code] = found[name] = dealer_id
    return found


def dispute_lines(*, session: Session, now: datetime, code: str | None = None) -> list[DisputeLine]:
    """Every dispute (or the one named `code`), open ones first (the earliest deadline first),
    then the closed ones, newest first."""
    dealers = {d.code: d for d in session.execute(select(Dealer)).scalars()}
    by_id = {d.id: d for d in dealers.values()}
    outlets = _outlet_dealers(session)
    lines = []
    query = select(Dispute).order_by(Dispute.id)
    if code is not None:
        query = query.where(Dispute.code == code)
    for dispute in session.execute(query).scalars():
        dealer = dealers.get(dispute.dealer_code or "")
        if dealer is None and dispute.outlet.strip():
            dealer = by_id.get(outlets.get(dispute.outlet.strip(), -1))
        step, column = DUE_STEP.get(dispute.status, (None, None))
        due = getattr(dispute, column) if column else None
        lines.append(
            DisputeLine(
                dispute=dispute,
                dealer_code=dealer.code if dealer else None,
                region_code=dealer.region_code if dealer else None,
                step=step,
                due_at=due,
                overdue=due is not None and now > due,
            )
        )
    open_ = sorted((x for x in lines if x.step), key=lambda x: (x.due_at or now, x.dispute.id))
    closed = sorted(
        (x for x in lines if not x.step),
        key=lambda x: (x.dispute.closed_at or x.dispute.filed_at, x.dispute.id),
        reverse=True,
    )
    return open_ + closed


def dispute_timeline(*, session: Session, dispute: Dispute) -> list[TimelineEntry]:
    entries = [TimelineEntry(dispute.filed_at, dispute.filed_by, "file", dispute.summary)]
    if dispute.acknowledged_at:
        entries.append(
            TimelineEntry(dispute.acknowledged_at, dispute.acknowledged_by or "", "acknowledge", "")
        )
    for step in session.execute(
        select(DisputeStep).where(DisputeStep.dispute_id == dispute.id)
    ).scalars():
        entries.append(
            TimelineEntry(step.recorded_at, step.recorded_by, step.kind, step.what, step.held_on)
        )
    for esc in session.execute(
        select(DisputeEscalation).where(DisputeEscalation.dispute_id == dispute.id)
    ).scalars():
        entries.append(
            TimelineEntry(
                esc.escalated_at,
                "disputes-sweep",
                "escalate",
                f"{esc.step} L{esc.level} → {esc.escalated_to}",
            )
        )
    if dispute.closed_at and dispute.status == "settled":
        entries.append(
            TimelineEntry(dispute.closed_at, dispute.closed_by or "", "settle", dispute.agreement)
        )
    elif dispute.closed_at and dispute.status == "litigation":
        entries.append(
            TimelineEntry(
                dispute.closed_at,
                dispute.closed_by or "",
                "litigate",
                f"{dispute.court} {dispute.case_number}",
                dispute.case_filed_on,
            )
        )
    return sorted(entries, key=lambda e: e.at)


# ---------------------------------------------------------------- incidents


def incidents_for(
    *,
    session: Session,
    region_code: str | None = None,
    reporter: str | None = None,
    dealer_id: int | None = None,
    club_id: int | None = None,
    everything: bool = False,
) -> list[Incident]:
    """The incidents of a scope, open first, newest first: every one, a region's, those a
    person reported, those at a dealer's outlets (code or name) or a club's activities."""
    query = select(Incident)
    if not everything:
        wanted = []
        if region_code:
            wanted.append(Incident.region_code == region_code)
        if reporter:
            wanted.append(Incident.reporter == reporter)
        if dealer_id is not None:
            names = [
                name
                for code, name in session.execute(
                    select(Outlet.code, Outlet.name).where(Outlet.dealer_id == dealer_id)
                ).all()
                for name in (code, name)
            ]
            if names:
                wanted.append(Incident.outlet.in_(names))
        if club_id is not None:
            codes = select(Activity.code).where(Activity.club_id == club_id)
            wanted.append(Incident.activity_code.in_(codes))
        if not wanted:
            return []
        query = query.where(or_(*wanted))
    rows = list(session.execute(query.order_by(Incident.id.desc())).scalars())
    return sorted(rows, key=lambda i: i.status != "open")


def incident_actions(*, session: Session, incident: Incident) -> list[tuple[IncidentAction, str]]:
    """The actions taken, oldest first, each with the responsible person's name (or the
    username as recorded)."""
    rows = list(
        session.execute(
            select(IncidentAction)
            .where(IncidentAction.incident_id == incident.id)
            .order_by(IncidentAction.recorded_at, IncidentAction.id)
        ).scalars()
    )
    names = dict(
        session.execute(
            select(Person.username, Person.name).where(
                Person.username.in_({r.responsible for r in rows})
            )
        ).all()
    )
    return [(row, names.get(row.responsible, "")) for row in rows]
