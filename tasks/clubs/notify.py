"""Messages of club onboarding: an item returned, the club active, the review and official
account deadlines, the yearly awards. Each is a NotificationRequest with the idempotency key
of its business event; the caller queues them in its own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from clubflow.core.links import portal_link
from clubflow.core.settings import Settings
from domain.club_onboarding import ITEM_LABELS
from domain.models import Club, Dealer, Person, Role
from domain.models_clubs import ClubAward, ClubChecklistItem, ClubOfficer
from domain.regions import REGIONS
from tasks.outbox import NotificationRequest

REGIONS_ZH = {r.code: r.name_zh for r in REGIONS}


def club_link(code: str, *, settings: Settings, now: datetime) -> str:
    return portal_link(f"/clubs/{code}", settings=settings, now=now)


def club_context(club: Club, *, settings: Settings, now: datetime) -> dict[str, str]:
    return {
        "club": club.name,
        "code": club.code,
        "region": REGIONS_ZH.get(club.region_code, club.region_code),
        "link": club_link(club.code, settings=settings, now=now),
    }


def dealer_code(*, session: Session, club: Club) -> str | None:
    if club.dealer_id is None:
        return None
    return session.get(Dealer, club.dealer_id).code


def club_admins(*, session: Session, club: Club) -> list[str]:
    """The club's admins: club_admin people of the club, and its officers who are admins."""
    officers = select(ClubOfficer.person_id).where(ClubOfficer.club_id == club.id)
    return list(
        session.execute(
            select(Person.username)
            .where(
                Person.role == Role.club_admin,
                or_(Person.club_id == club.id, Person.id.in_(officers)),
            )
            .order_by(Person.username)
        ).scalars()
    )


def returned_request(
    *, session: Session, club: Club, row: ClubChecklistItem, settings: Settings, now: datetime
) -> list[NotificationRequest]:
    """The dealer hears the reviewer's reason, once per item and round."""
    dealer = dealer_code(session=session, club=club)
    if dealer is None:
        return []
    return [
        NotificationRequest(
            recipient=f"dealer:{dealer}",
            template="club_item_returned",
            context={
                **club_context(club, settings=settings, now=now),
                "item": ITEM_LABELS.get(row.item, row.item),
                "reason": row.return_reason,
                "decider": row.decided_by or "",
                "round": row.round,
            },
            idem_key=f"club:{club.id}:item:{row.item}:round:{row.round}:returned",
        )
    ]


def active_requests(
    *, session: Session, club: Club, settings: Settings, now: datetime
) -> list[NotificationRequest]:
    """The club is active: its dealer, its admins and the region's specialist are told, once."""
    recipients = [f"person:{u}" for u in club_admins(session=session, club=club)]
    dealer = dealer_code(session=session, club=club)
    if dealer is not None:
        recipients.insert(0, f"dealer:{dealer}")
    recipients.append(f"role:regional_specialist:{club.region_code}")
    context = club_context(club, settings=settings, now=now)
    return [
        NotificationRequest(
            recipient=r,
            template="club_active",
            context=context,
            idem_key=f"club:{club.id}:active:{r}",
        )
        for r in recipients
    ]


def award_lines(*, session: Session, year: int) -> list[tuple[ClubAward, Club]]:
    return list(
        session.execute(
            select(ClubAward, Club)
            .join(Club, Club.id == ClubAward.club_id)
            .where(ClubAward.year == year)
            .order_by(ClubAward.scope != "national", ClubAward.scope, ClubAward.place)
        ).all()
    )


def scope_zh(scope: str) -> str:
    return "全国" if scope == "national" else REGIONS_ZH.get(scope, scope)


def awards_markdown(*, session: Session, year: int) -> str:
    lines = [
        f"# {year} 年度俱乐部评奖",
        "",
        "| 范围 | 名次 | 俱乐部 | 年度总分 |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {scope_zh(a.scope)} | {a.place} | {c.name} | {a.score:g} |"
        for a, c in award_lines(session=session, year=year)
    ]
    return "\n".join(lines) + "\n"


def award_requests(*, session: Session, year: int) -> list[NotificationRequest]:
    """Each awarded club's dealer hears its awards, every region's specialist the whole list;
    once per year (the keys)."""
    lines = award_lines(session=session, year=year)
    if not lines:
        return []
    dealers = dict(session.execute(select(Dealer.id, Dealer.code)).all())
    by_club: dict[int, list[str]] = {}
    clubs: dict[int, Club] = {}
    for award, club in lines:
        clubs[club.id] = club
        by_club.setdefault(club.id, []).append(f"{scope_zh(award.scope)}第 {award.place} 名")
    everyone = "；".join(f"{scope_zh(a.scope)}第 {a.place} 名 {c.name}" for a, c in lines)
    requests = [
        NotificationRequest(
            recipient=f"dealer:{dealers[club.dealer_id]}",
            template="club_award",
            context={"year": year, "club": club.name, "awards": "、".join(by_club[cid])},
            idem_key=f"club-awards:{year}:{club.code}",
        )
        for cid, club in clubs.items()
        if club.dealer_id in dealers
    ]
    requests += [
        NotificationRequest(
            recipient=f"role:regional_specialist:{r.code}",
            template="club_awards_list",
            context={"year": year, "awards": everyone, "count": len(lines)},
            idem_key=f"club-awards:{year}:region:{r.code}",
        )
        for r in REGIONS
    ]
    return requests


def review_items_text(rows: list[ClubChecklistItem]) -> str:
    return "、".join(ITEM_LABELS.get(r.item, r.item) for r in rows)
