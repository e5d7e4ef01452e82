"""Outlets in the store: registration by the parent dealer's staff, their documents, the
reviews passed, and the views flows, the CLI and the portal show (phones and registration
numbers masked).

Data functions take the session (keyword-only). Who may register is checked by
domain.outlets.register_refusal; the caller records a refusal before it refuses.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session

from domain.models import Dealer
from domain.models_outlets import DocumentKind, Outlet, OutletDocument, OutletStatus
from domain.outlets import (
    REVIEWS,
    OutletCover,
    documents_problem,
    expired,
    mask_number,
    masked_contact,
    register_refusal,
    status_after,
)
from tasks.audit import Refused, actor_of, record_refusal
from tasks.common import data_task


class OutletError(ValueError):
    """Bad input for an outlet (names the field)."""


class DocumentIn(BaseModel):
    kind: DocumentKind
    number: str = Field(min_length=1)
    link: str = ""
    expires_on: date


class OutletIn(BaseModel):
    """What the dealer's staff type when registering an outlet."""

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)
    cities: list[str] = Field(min_length=1)
    contact_name: str = ""
    contact_phone: str = ""
    documents: list[DocumentIn] = Field(default_factory=list)


class DocumentView(BaseModel):
    kind: str
    number: str  # masked
    link: str
    expires_on: date


class OutletView(BaseModel):
    id: int
    code: str
    name: str
    dealer_code: str
    dealer_name: str
    region_code: str
    cities: list[str]
    contact_name: str
    contact_phone: str  # masked
    status: str
    passed: list[str]
    risk_score: float | None
    renewals: int
    registered_by: str
    documents: list[DocumentView]


def _view(session: Session, outlet: Outlet) -> OutletView:
    dealer = session.get(Dealer, outlet.dealer_id)
    docs = session.execute(
        select(OutletDocument)
        .where(OutletDocument.outlet_id == outlet.id)
        .order_by(OutletDocument.kind)
    ).scalars()
    return OutletView(
        id=outlet.id,
        code=outlet.code,
        name=outlet.name,
        dealer_code=dealer.code,
        dealer_name=dealer.name,
        region_code=dealer.region_code,
        cities=list(outlet.cities),
        contact_name=outlet.contact_name,
        contact_phone=masked_contact(outlet.contact_phone),
        status=str(outlet.status),
        passed=list(outlet.passed),
        risk_score=outlet.risk_score,
        renewals=outlet.renewals,
        registered_by=outlet.registered_by,
        documents=[
            DocumentView(
                kind=str(d.kind), number=mask_number(d.number), link=d.link, expires_on=d.expires_on
            )
            for d in docs
        ],
    )


def _outlet(session: Session, code: str) -> Outlet:
    outlet = session.execute(select(Outlet).where(Outlet.code == code)).scalar_one_or_none()
    if outlet is None:
        raise OutletError(f"outlet {code!r}: no such outlet")
    return outlet


def register_outlet(*, session: Session, outlet: OutletIn, by: str, now: datetime) -> OutletView:
    """Register `outlet` under the dealer `by` works for; a second registration of the same
    code by the same dealer returns the stored one unchanged."""
    actor = actor_of(session=session, username=by)
    dealer_id = actor.dealer_id if actor else None
    reason = register_refusal(actor, username=by, dealer_id=dealer_id or -1)
    if reason is None and dealer_id is None:
        reason = f"user {by!r} acts for no dealer"
    if reason is not None:
        record_refusal(
            session=session,
            action="outlet.register",
            subject=f"outlet:{outlet.code}",
            actor=by,
            reason=reason,
            now=now,
        )
        session.commit()  # the refusal's record outlives the refused change
        raise Refused(reason)
    existing = session.execute(
        select(Outlet).where(Outlet.code == outlet.code)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.dealer_id != dealer_id:
            raise OutletError(f"code: outlet {outlet.code!r} belongs to another dealer")
        return _view(session, existing)
    problem = documents_problem({str(d.kind) for d in outlet.documents})
    if problem:
        raise OutletError(f"documents: {problem}")
    row = Outlet(
        code=outlet.code,
        name=outlet.name,
        dealer_id=dealer_id,
        cities=[c.strip() for c in outlet.cities if c.strip()],
        contact_name=outlet.contact_name,
        contact_phone=outlet.contact_phone,
        registered_by=by,
        registered_at=now,
    )
    session.add(row)
    session.flush()
    for doc in outlet.documents:
        session.add(
            OutletDocument(
                outlet_id=row.id,
                kind=doc.kind,
                number=doc.number.strip(),
                link=doc.link,
                expires_on=doc.expires_on,
            )
        )
    session.flush()
    return _view(session, row)


def load_outlet(*, session: Session, code: str) -> OutletView:
    return _view(session, _outlet(session, code))


def list_outlets(*, session: Session, dealer_code: str | None = None) -> list[OutletView]:
    query = select(Outlet).order_by(Outlet.code)
    if dealer_code:
        query = query.join(Dealer, Dealer.id == Outlet.dealer_id).where(Dealer.code == dealer_code)
    return [_view(session, o) for o in session.execute(query).scalars()]


def _refresh_status(session: Session, outlet: Outlet, *, today: date, now: datetime) -> None:
    docs = session.execute(
        select(OutletDocument).where(OutletDocument.outlet_id == outlet.id)
    ).scalars()
    any_expired = any(expired(d.expires_on, today=today) for d in docs)
    status = status_after(set(outlet.passed), any_expired=any_expired, current=outlet.status)
    if status == OutletStatus.active and outlet.activated_at is None:
        outlet.activated_at = now
    outlet.status = status
    session.add(outlet)


def record_review_passed(
    *,
    session: Session,
    code: str,
    review: str,
    today: date,
    now: datetime,
    risk_score: float | None = None,
) -> OutletView:
    """Mark `review` passed (once) and recompute the outlet's status."""
    if review not in REVIEWS:
        raise OutletError(f"review {review!r}: not one of {', '.join(REVIEWS)}")
    outlet = _outlet(session, code)
    if review not in outlet.passed:
        outlet.passed = [*outlet.passed, review]
    if risk_score is not None:
        outlet.risk_score = risk_score
    _refresh_status(session, outlet, today=today, now=now)
    session.flush()
    return _view(session, outlet)


def record_rejected(*, session: Session, code: str) -> OutletView:
    outlet = _outlet(session, code)
    outlet.status = OutletStatus.rejected
    session.add(outlet)
    session.flush()
    return _view(session, outlet)


def renew_document(
    *, session: Session, code: str, document: DocumentIn, by: str, today: date, now: datetime
) -> OutletView:
    """The dealer's staff record a renewed document; the qualification review passes again
    only when it is reviewed (the outlet stays suspended until then)."""
    outlet = _outlet(session, code)
    actor = actor_of(session=session, username=by)
    reason = register_refusal(actor, username=by, dealer_id=outlet.dealer_id)
    if reason is not None:
        record_refusal(
            session=session,
            action="outlet.renew",
            subject=f"outlet:{code}",
            actor=by,
            reason=reason,
            now=now,
        )
        session.commit()  # the refusal's record outlives the refused change
        raise Refused(reason)
    row = session.execute(
        select(OutletDocument).where(
            OutletDocument.outlet_id == outlet.id, OutletDocument.kind == document.kind
        )
    ).scalar_one()
    row.number, row.link, row.expires_on = (
        document.number.strip(),
        document.link,
        document.expires_on,
    )
    row.reminded_for = None
    session.add(row)
    # A renewed paper is reviewed again: qualification is no longer passed.
    outlet.passed = [p for p in outlet.passed if p != "qualification"]
    outlet.renewals += 1
    if outlet.status == OutletStatus.active:
        outlet.status = OutletStatus.suspended
    session.add(outlet)
    session.flush()
    return _view(session, outlet)


def active_covers(*, session: Session, cities: set[str]) -> list[OutletCover]:
    """The active outlets covering any of `cities`, with their parent dealer's code."""
    rows = session.execute(
        select(Outlet, Dealer.code)
        .join(Dealer, Dealer.id == Outlet.dealer_id)
        .where(Outlet.status == OutletStatus.active)
        .where(Dealer.active.is_(True))
    ).all()
    return [
        OutletCover(o.code, o.name, dealer_code, tuple(o.cities))
        for o, dealer_code in rows
        if cities & set(o.cities)
    ]


class ReviewState(BaseModel):
    """Where one of the three reviews stands, from its gates (the newest round or renewal)."""

    review: str
    title: str
    owner_role: str
    state: str  # passed / open / returned / rejected / waiting
    gate_id: int | None = None
    round: int | None = None
    due_on: date | None = None


def review_states(*, session: Session, code: str) -> list[ReviewState]:
    """The three reviews of outlet `code`, in order, each with its newest gate."""
    from domain.models import Gate, GateStatus

    outlet = _outlet(session, code)
    gates = list(
        session.execute(
            select(Gate)
            .where(Gate.subject_type == "outlet", Gate.subject_id == outlet.id)
            .order_by(Gate.id)
        ).scalars()
    )
    states = []
    for review, (role, title) in REVIEWS.items():
        mine = [g for g in gates if g.key == review or g.key.startswith(f"{review}_renewal")]
        gate = mine[-1] if mine else None
        if gate is not None and gate.status == GateStatus.open:
            state = "open"
        elif review in outlet.passed:
            state = "passed"
        elif gate is not None and gate.outcome == "reject":
            state = "rejected"
        elif gate is not None and gate.outcome == "revise":
            state = "returned"
        else:
            state = "waiting"  # not reached yet, or a renewal waits for its run
        states.append(
            ReviewState(
                review=review,
                title=title,
                owner_role=role,
                state=state,
                gate_id=gate.id if gate else None,
                round=gate.round if gate else None,
                due_on=gate.due_on if gate else None,
            )
        )
    return states


register_outlet_task = data_task(register_outlet)
load_outlet_task = data_task(load_outlet)
record_review_passed_task = data_task(record_review_passed)
record_rejected_task = data_task(record_rejected)
