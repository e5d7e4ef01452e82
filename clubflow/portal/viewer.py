"""Who is signed in, and what they may see: a club admin their club, a dealer their leads
and club, a specialist their region, HQ everything, a member their own pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from domain.models import Club, Dealer, Member, Person, Role
from domain.phones import phone_key

# HQ sees every region and club.
HQ_ROLES = frozenset({Role.campaign_manager, Role.it})
MEMBER = "member"


@dataclass(frozen=True)
class Viewer:
    who: str  # person:<username> or member:<member_no>: what a session and the audit name
    name: str
    role: str  # a Role value, or "member"
    username: str | None = None
    member_no: str | None = None
    member_id: int | None = None
    region_code: str | None = None
    club_id: int | None = None
    club_code: str | None = None
    dealer_id: int | None = None
    dealer_code: str | None = None

    @property
    def actor(self) -> str:
        """The name the store's records and role checks use: the username, `dealer:<code>`
        for dealer staff, `member:<no>` for a member."""
        if self.role == Role.dealer and self.dealer_code:
            return f"dealer:{self.dealer_code}"
        return self.username or self.who

    @property
    def is_hq(self) -> bool:
        return self.role in HQ_ROLES

    @property
    def is_member(self) -> bool:
        return self.role == MEMBER

    def sees_region(self, region_code: str | None) -> bool:
        return self.is_hq or (
            self.role == Role.regional_specialist and region_code == self.region_code
        )

    def sees_club(self, *, club_id: int | None, region_code: str | None, dealer_id=None) -> bool:
        if self.sees_region(region_code):
            return True
        if self.role == Role.club_admin:
            return club_id is not None and club_id == self.club_id
        if self.role == Role.dealer:
            return dealer_id is not None and dealer_id == self.dealer_id
        return False


def viewer_for(*, session: Session, who: str) -> Viewer | None:
    """The viewer a session names, or None when that person or member is gone or inactive."""
    kind, _, name = who.partition(":")
    if kind == "person":
        person = session.execute(select(Person).where(Person.username == name)).scalar_one_or_none()
        if person is None or not person.active:
            return None
        club = session.get(Club, person.club_id) if person.club_id else None
        dealer = session.get(Dealer, person.dealer_id) if person.dealer_id else None
        if dealer is not None and club is None:
            club = session.execute(
                select(Club).where(Club.dealer_id == dealer.id)
            ).scalar_one_or_none()
        return Viewer(
            who=who,
            name=person.name,
            role=str(person.role),
            username=person.username,
            region_code=person.region_code or (dealer.region_code if dealer else None),
            club_id=club.id if club else None,
            club_code=club.code if club else None,
            dealer_id=dealer.id if dealer else None,
            dealer_code=dealer.code if dealer else None,
        )
    if kind == "member":
        member = session.execute(
            select(Member).where(Member.member_no == name)
        ).scalar_one_or_none()
        if member is None or member.status == "expired":
            return None
        club = session.get(Club, member.club_id) if member.club_id else None
        return Viewer(
            who=who,
            name=member.name,
            role=MEMBER,
            member_no=member.member_no,
            member_id=member.id,
            region_code=club.region_code if club else None,
            club_id=member.club_id,
            club_code=club.code if club else None,
        )
    return None


def find_account(*, session: Session, identifier: str) -> str | None:
    """`person:<username>` or `member:<member_no>` for a username or a phone number; staff
    first (a phone shared by a person and a member signs in the person)."""
    value = identifier.strip()
    if not value:
        return None
    person = session.execute(select(Person).where(Person.username == value)).scalar_one_or_none()
    if person is not None:
        return f"person:{person.username}" if person.active else None
    phone = phone_key(value)
    if phone is None:
        return None
    person = session.execute(
        select(Person).where(Person.phone == phone, Person.active.is_(True))
    ).scalar_one_or_none()
    if person is not None:
        return f"person:{person.username}"
    member = session.execute(select(Member).where(Member.phone == phone)).scalar_one_or_none()
    if member is not None and member.status != "expired":
        return f"member:{member.member_no}"
    return None
