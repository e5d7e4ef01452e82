"""Interactions of members (service visits, purchases, store visits, app use): the input of
segments, of service-visit tiers and of purchase referral rewards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, case, select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.members import InteractionInput
from domain.models import Member, UTCDateTime
from domain.models_members import MemberInteraction
from tasks.common import chunks, data_task
from tasks.members.ledger import recompute_members
from tasks.members.online_points import grant_online_points


@dataclass
class InteractionReport:
    recorded: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)


def record_interactions(
    *,
    session: Session,
    interactions: list[InteractionInput],
    now: datetime,
    settings: Settings,
) -> InteractionReport:
    """Store interactions once per (kind, ref); count new service visits toward the tier."""
    report = InteractionReport()
    numbers = sorted({i.member_no for i in interactions})
    ids: dict[str, int] = {}
    for batch in chunks(numbers):
        ids.update(
            session.execute(
                select(Member.member_no, Member.id).where(Member.member_no.in_(batch))
            ).all()
        )
    rows = []
    for index, item in enumerate(interactions, start=1):
        if item.member_no not in ids:
            report.rejected.append(f"row {index}: member_no {item.member_no!r} is unknown")
            continue
        rows.append(
            {
                "member_id": ids[item.member_no],
                "kind": item.kind,
                "ref": item.ref,
                "occurred_at": item.occurred_at,
            }
        )
    new_ids = insert_ignoring_conflicts(session, MemberInteraction, rows, on=["kind", "ref"])
    report.recorded, report.duplicates = len(new_ids), len(rows) - len(new_ids)
    if not new_ids:
        return report
    services: Counter[int] = Counter()
    latest: dict[int, datetime] = {}
    for batch in chunks(new_ids):
        for member_id, kind, at in session.execute(
            select(
                MemberInteraction.member_id, MemberInteraction.kind, MemberInteraction.occurred_at
            ).where(MemberInteraction.id.in_(batch))
        ).all():
            if kind == "service":
                services[member_id] += 1
            latest[member_id] = max(at, latest.get(member_id, at))
    # Increments in SQL (executemany), so two importers at once never lose a visit.
    table = Member.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("mid"))
        .values(
            service_visits=table.c.service_visits + bindparam("visits"),
            last_interaction_at=case(
                (
                    table.c.last_interaction_at.is_(None)
                    | (table.c.last_interaction_at < bindparam("at", type_=UTCDateTime())),
                    bindparam("at", type_=UTCDateTime()),
                ),
                else_=table.c.last_interaction_at,
            ),
        ),
        [{"mid": m, "visits": services[m], "at": at} for m, at in latest.items()],
    )
    # Online interactions and service reviews earn their small points within the daily cap.
    credited = grant_online_points(session=session, interaction_ids=new_ids, settings=settings)
    recompute_members(
        session=session, member_ids=sorted(set(services) | credited), now=now, settings=settings
    )
    return report


record_interactions_task = data_task(record_interactions, retries=2, retry_delay_seconds=5)
