"""Points for online interactions (app sign-in, forum post, share) and service reviews: a
small configured amount per kind, at most the daily cap per member and business day.

Each interaction's row is keyed `interaction:<id>` (an interaction is stored once by its
kind and reference), so a re-import grants nothing. The cap counts the day's earlier online
rows, so an import split in two gives no more than one whole.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.models import PointsEntry
from domain.models_members import MemberInteraction
from domain.points_earn import capped_grants, day_bounds
from tasks.common import chunks
from tasks.members.ledger import grant_points

ONLINE_PREFIX = "online:"


def grant_online_points(
    *, session: Session, interaction_ids: list[int], settings: Settings
) -> set[int]:
    """Grant the online kinds among these (new) interactions; returns the members credited."""
    kinds = settings.online_points
    found = []
    for batch in chunks(interaction_ids):
        found.extend(
            session.execute(
                select(
                    MemberInteraction.id,
                    MemberInteraction.member_id,
                    MemberInteraction.kind,
                    MemberInteraction.occurred_at,
                )
                .where(MemberInteraction.id.in_(batch), MemberInteraction.kind.in_(list(kinds)))
                .order_by(MemberInteraction.occurred_at, MemberInteraction.id)
            ).all()
        )
    by_day: dict[tuple[int, date], list] = defaultdict(list)
    for row in found:
        by_day[(row.member_id, business_date(row.occurred_at))].append(row)
    grants = []
    for (member_id, day), rows in by_day.items():
        start, end = day_bounds(day)
        already = session.execute(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.member_id == member_id,
                PointsEntry.reason.startswith(ONLINE_PREFIX),
                PointsEntry.occurred_at >= start,
                PointsEntry.occurred_at < end,
            )
        ).scalar_one()
        amounts = capped_grants(
            int(already), [kinds[r.kind] for r in rows], settings.online_points_daily_cap
        )
        for row, amount in zip(rows, amounts, strict=True):
            if amount > 0:
                grants.append(
                    {
                        "member_id": member_id,
                        "amount": amount,
                        "reason": f"{ONLINE_PREFIX}{row.kind}",
                        "idem_key": f"interaction:{row.id}",
                        "occurred_at": row.occurred_at,
                    }
                )
    grant_points(session=session, rows=grants, settings=settings)
    return {g["member_id"] for g in grants}
