"""Sleeping members' monthly offers: once a month, capped per member, only with consent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.consent import Purpose
from domain.members import MemberStatus, Segment, recipient
from domain.models import Club, Member
from domain.models_retention import MemberOffer
from domain.retention import month_start, months_back, offer_refusal
from tasks.common import data_task, run_logger
from tasks.outbox import NotificationRequest, queue_notifications


@dataclass
class OfferReport:
    month: date
    offered: list[str] = field(default_factory=list)
    capped: int = 0
    no_consent: int = 0


def offer_sleeping_members(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> OfferReport:
    """Offer every sleeping member this month's offer, unless capped or without consent;
    a re-run in the same month adds nothing."""
    month = month_start(as_of)
    report = OfferReport(month=month)
    members = session.execute(
        select(Member.id, Member.member_no, Member.name, Club.name)
        .outerjoin(Club, Club.id == Member.club_id)
        .where(Member.status == MemberStatus.active, Member.segment == Segment.sleeping)
        .order_by(Member.id)
    ).all()
    if not members:
        return report
    since = months_back(month, settings.retention_offer_window_months - 1)
    past: dict[int, list[date]] = {}
    for member_id, offered in session.execute(
        select(MemberOffer.member_id, MemberOffer.month).where(MemberOffer.month >= since)
    ).all():
        past.setdefault(member_id, []).append(offered)
    requests, ids = [], {}
    for member_id, no, name, club in members:
        if offer_refusal(
            past.get(member_id, []),
            month=month,
            cap=settings.retention_offer_cap,
            window_months=settings.retention_offer_window_months,
        ):
            report.capped += month not in past.get(member_id, [])
            continue
        key = f"member:{no}:offer:{month.isoformat()}"
        ids[key] = (member_id, no)
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_offer",
                context={
                    "name": name,
                    "club": club or "羽林车友俱乐部",
                    "offer": settings.retention_offer_text,
                    "month": f"{month.year}年{month.month}月",
                },
                idem_key=key,
                purpose=Purpose.marketing,
            )
        )
    result = queue_notifications(session=session, requests=requests, now=now, settings=settings)
    report.no_consent = len(result.refused)
    offered = [ids[k] for k in ids if k not in result.refused]
    insert_ignoring_conflicts(
        session,
        MemberOffer,
        [{"member_id": m, "month": month, "offered_at": now} for m, _no in offered],
        on=["member_id", "month"],
    )
    report.offered = [no for _m, no in offered]
    run_logger("retention").info(
        "offered %s sleeping members (%s capped, %s without marketing consent)",
        len(report.offered),
        report.capped,
        report.no_consent,
    )
    return report


@task(name="publish-member-offers")
def publish_offers(report: OfferReport) -> None:
    create_markdown_artifact(
        key="member-offers",
        markdown=(
            f"### Sleeping members' offers, {report.month:%Y-%m}\n\n"
            f"Offered: {len(report.offered)}; capped: {report.capped}; "
            f"without marketing consent: {report.no_consent}."
        ),
        description="Monthly offers to sleeping members",
    )


offer_sleeping_members_task = data_task(offer_sleeping_members, retries=2, retry_delay_seconds=5)
