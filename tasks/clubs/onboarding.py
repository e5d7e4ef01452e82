"""Club onboarding (收编登记): HQ adds dealers and people, a dealer's staff register the club
and submit the checklist's evidence, the regional specialist reviews item by item.

Data functions take the session (keyword-only). Every refusal is recorded and committed
before it is raised (`Refused`), so the record outlives the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings, get_settings
from domain.club_onboarding import (
    ITEM_LABELS,
    ClubInputError,
    ItemState,
    check_club_name,
    check_grade,
    check_officers,
    club_status,
    hq_refusal,
    register_refusal,
    review_refusal,
    submit_refusal,
)
from domain.models import Club, Dealer, Person, Role
from domain.models_clubs import ClubChecklistItem, ClubOfficer
from domain.privacy import mask_phone
from tasks.audit import Refused, actor_of, record_refusal
from tasks.clubs.notify import active_requests, returned_request
from tasks.outbox import queue_notifications


def _refuse(
    *, session: Session, action: str, subject: str, username: str, reason: str | None, now: datetime
) -> None:
    if reason is None:
        return
    record_refusal(
        session=session, action=action, subject=subject, actor=username, reason=reason, now=now
    )
    session.commit()
    raise Refused(reason)


def club_by_code(*, session: Session, code: str) -> Club:
    club = session.execute(select(Club).where(Club.code == code)).scalar_one_or_none()
    if club is None:
        raise LookupError(f"club: no club {code!r}")
    return club


def add_dealer(
    *,
    session: Session,
    username: str,
    code: str,
    name: str,
    city: str,
    region_code: str,
    now: datetime,
) -> Dealer:
    """HQ adds a dealer; adding the same code again returns the one stored."""
    reason = hq_refusal(
        actor_of(session=session, username=username), username=username, action="add-dealer"
    )
    _refuse(
        session=session,
        action="clubs.add-dealer",
        subject=f"dealer:{code}",
        username=username,
        reason=reason,
        now=now,
    )
    found = session.execute(select(Dealer).where(Dealer.code == code)).scalar_one_or_none()
    if found is not None:
        return found
    dealer = Dealer(code=code, name=name, city=city, region_code=region_code)
    session.add(dealer)
    session.flush()
    return dealer


def add_person(
    *,
    session: Session,
    username: str,
    person: str,
    name: str,
    role: str,
    phone: str | None,
    region_code: str | None = None,
    dealer_code: str | None = None,
    now: datetime,
) -> Person:
    """HQ adds a person (an officer, a club admin, a dealer's staff); idempotent by username."""
    reason = hq_refusal(
        actor_of(session=session, username=username), username=username, action="add-person"
    )
    _refuse(
        session=session,
        action="clubs.add-person",
        subject=f"person:{person}",
        username=username,
        reason=reason,
        now=now,
    )
    if role not in {r.value for r in Role}:
        raise ClubInputError("role", f"unknown role {role!r}")
    found = session.execute(select(Person).where(Person.username == person)).scalar_one_or_none()
    if found is not None:
        return found
    dealer_id = None
    if dealer_code:
        dealer = session.execute(
            select(Dealer).where(Dealer.code == dealer_code)
        ).scalar_one_or_none()
        if dealer is None:
            raise ClubInputError("dealer", f"no dealer {dealer_code!r}")
        dealer_id = dealer.id
        region_code = region_code or dealer.region_code
    row = Person(
        username=person,
        name=name,
        role=Role(role),
        phone=phone,
        region_code=region_code,
        dealer_id=dealer_id,
    )
    session.add(row)
    session.flush()
    return row


def register_club(
    *,
    session: Session,
    username: str,
    dealer_code: str,
    code: str,
    name: str,
    grade: str,
    officers: dict[str, str],
    settings: Settings,
    now: datetime,
) -> Club:
    """A dealer's staff register the dealer's club: pending, with its checklist rows."""
    dealer = session.execute(select(Dealer).where(Dealer.code == dealer_code)).scalar_one_or_none()
    if dealer is None:
        raise ClubInputError("dealer", f"no dealer {dealer_code!r}")
    reason = register_refusal(
        actor_of(session=session, username=username), username=username, dealer_id=dealer.id
    )
    _refuse(
        session=session,
        action="clubs.register",
        subject=f"club:{code}",
        username=username,
        reason=reason,
        now=now,
    )
    existing = session.execute(select(Club).where(Club.code == code)).scalar_one_or_none()
    if existing is not None:
        return existing  # registering twice keeps the first registration
    check_club_name(
        name,
        separator=settings.club_name_separator,
        parts=settings.club_name_parts,
        alliance_label=settings.club_alliance_label,
    )
    grade_value = check_grade(grade)
    check_officers(officers)
    people = {}
    for title, who in officers.items():
        person = session.execute(select(Person).where(Person.username == who)).scalar_one_or_none()
        if person is None:
            raise ClubInputError(f"officer {title}", f"no person {who!r} (HQ adds people)")
        if not person.phone:
            raise ClubInputError(f"officer {title}", f"{who!r} has no phone")
        people[title] = person
    club = Club(
        code=code,
        name=name,
        city=dealer.city,
        region_code=dealer.region_code,
        grade=grade_value,
        dealer_id=dealer.id,
        status="pending",
        registered_at=now,
    )
    session.add(club)
    session.flush()
    for title, person in people.items():
        session.add(ClubOfficer(club_id=club.id, title=title, person_id=person.id))
    for item in settings.club_required_items:
        session.add(ClubChecklistItem(club_id=club.id, item=item, required=True))
    for item in settings.club_optional_items:
        session.add(ClubChecklistItem(club_id=club.id, item=item, required=False))
    session.flush()
    return club


def checklist(*, session: Session, club_id: int) -> list[ClubChecklistItem]:
    return list(
        session.execute(
            select(ClubChecklistItem)
            .where(ClubChecklistItem.club_id == club_id)
            .order_by(ClubChecklistItem.id)
        ).scalars()
    )


def submit_evidence(
    *,
    session: Session,
    username: str,
    club_code: str,
    evidence: dict[str, str],
    now: datetime,
) -> list[str]:
    """The dealer submits evidence for items not yet approved; returns the items submitted.
    The same evidence submitted again while it waits for review changes nothing."""
    club = club_by_code(session=session, code=club_code)
    reason = submit_refusal(
        actor_of(session=session, username=username), username=username, dealer_id=club.dealer_id
    )
    _refuse(
        session=session,
        action="clubs.submit",
        subject=f"club:{club.code}",
        username=username,
        reason=reason,
        now=now,
    )
    rows = {r.item: r for r in checklist(session=session, club_id=club.id)}
    for item, text in evidence.items():
        if item not in rows:
            raise ClubInputError(f"item {item}", f"not on the checklist ({', '.join(rows)})")
        if not text.strip():
            raise ClubInputError(f"item {item}", "evidence (a link or text) is empty")
    submitted = []
    for item, text in evidence.items():
        row = rows[item]
        if row.status == "approved" or (row.status == "submitted" and row.evidence == text):
            continue
        row.status = "submitted"
        row.evidence = text.strip()
        row.round += 1
        row.submitted_by = username
        row.submitted_at = now
        row.return_reason = ""
        row.review_reminded_at = row.review_escalated_at = None  # a new submission's deadline
        submitted.append(item)
    session.flush()
    return submitted


def review_item(
    *,
    session: Session,
    username: str,
    club_code: str,
    item: str,
    approve: bool,
    reason: str,
    now: datetime,
    settings: Settings | None = None,
) -> str:
    """The region's specialist approves an item or returns it with a reason; the club becomes
    active when every required item has passed. Returns the club's status.

    The dealer hears of a return (with the reason), and the dealer, the club's admins and the
    specialist of the club becoming active: queued in this transaction, so the decision and
    its messages commit together."""
    club = club_by_code(session=session, code=club_code)
    refusal = review_refusal(
        actor_of(session=session, username=username),
        username=username,
        region_code=club.region_code,
    )
    _refuse(
        session=session,
        action="clubs.review",
        subject=f"club:{club.code}",
        username=username,
        reason=refusal,
        now=now,
    )
    rows = {r.item: r for r in checklist(session=session, club_id=club.id)}
    row = rows.get(item)
    if row is None:
        raise ClubInputError("item", f"{item!r} is not on the checklist")
    if row.status != "submitted":
        raise ClubInputError(f"item {item}", f"is {row.status}, not waiting for review")
    if not approve and not reason.strip():
        raise ClubInputError("reason", "a returned item needs a reason")
    row.status = "approved" if approve else "returned"
    row.return_reason = "" if approve else reason.strip()
    row.decided_by = username
    row.decided_at = now
    states = [ItemState(r.item, r.required, r.status) for r in rows.values()]
    settings = settings or get_settings()
    requests = []
    if not approve:
        requests += returned_request(
            session=session, club=club, row=row, settings=settings, now=now
        )
    if club.status == "pending" and club_status(states) == "active":
        club.status = "active"
        requests += active_requests(session=session, club=club, settings=settings, now=now)
    session.flush()
    if requests:
        queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return club.status


@dataclass(frozen=True)
class ClubLine:
    code: str
    name: str
    region_code: str
    grade: str
    status: str
    officers: list[tuple[str, str, str]]  # (title, name, masked phone)
    items: list[tuple[str, str, str, bool, str]]  # (item, label, status, required, reason)


def list_clubs(*, session: Session, region_code: str | None = None) -> list[ClubLine]:
    query = select(Club).order_by(Club.code)
    if region_code:
        query = query.where(Club.region_code == region_code)
    lines = []
    for club in session.execute(query).scalars():
        officers = [
            (o.title, p.name, mask_phone(p.phone))
            for o, p in session.execute(
                select(ClubOfficer, Person)
                .join(Person, Person.id == ClubOfficer.person_id)
                .where(ClubOfficer.club_id == club.id)
                .order_by(ClubOfficer.id)
            ).all()
        ]
        items = [
            (r.item, ITEM_LABELS.get(r.item, r.item), r.status, r.required, r.return_reason)
            for r in checklist(session=session, club_id=club.id)
        ]
        lines.append(
            ClubLine(
                club.code,
                club.name,
                club.region_code,
                str(club.grade),
                club.status,
                officers,
                items,
            )
        )
    return lines
