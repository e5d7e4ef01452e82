"""The points ledger in the store: grant points, and recompute balance, rank and tier.

`recompute_members` is shared with the activities area: after writing ledger rows, call it
with the members concerned; it sets the cached balance to the sum of the ledger, moves rank
and tier, and (by default) queues the rise notifications in the same transaction, so a crash
can never leave a rise recorded but unannounced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.members import TIER_ZH, recipient
from domain.models import Member, MemberTier, PointsEntry
from domain.points import TierPolicy, expiry_date, next_rank, rank_for, rank_index, tier_for
from domain.points import tier_rose as _tier_rose
from tasks.common import chunks
from tasks.members.purchases import purchases_within_year
from tasks.outbox import NotificationRequest, queue_notifications


def tier_policy(settings: Settings) -> TierPolicy:
    return TierPolicy(
        silver_points=settings.silver_points,
        silver_services=settings.silver_services,
        gold_points=settings.gold_points,
        silver_purchase_yuan=settings.silver_purchase_yuan,
        gold_purchase_yuan=settings.gold_purchase_yuan,
    )


@dataclass(frozen=True)
class MemberChange:
    """A member whose balance, rank or tier moved in one recompute."""

    member_id: int
    member_no: str
    name: str
    old_points: int
    points: int
    old_rank: str
    rank: str
    old_tier: MemberTier
    tier: MemberTier

    @property
    def rank_rose(self) -> bool:
        return rank_index(self.rank) > rank_index(self.old_rank)

    @property
    def tier_rose(self) -> bool:
        return _tier_rose(self.old_tier, self.tier)

    @property
    def rose(self) -> bool:
        return self.rank_rose or self.tier_rose


def grant_points(*, session: Session, rows: list[dict], settings: Settings) -> list[int]:
    """Insert positive (or negative) ledger rows once per `idem_key`; returns the new ids.

    Each row: member_id, amount, reason, idem_key, occurred_at (aware), optional activity_id.
    A grant gets its expiry day (settings.points_expire_years after its business date).
    """
    prepared = []
    for row in rows:
        occurred_at = row["occurred_at"]
        expires_on = row.get("expires_on")
        if row["amount"] > 0 and expires_on is None:
            expires_on = expiry_date(business_date(occurred_at), settings.points_expire_years)
        prepared.append(
            {
                "member_id": row["member_id"],
                "amount": row["amount"],
                "reason": row["reason"],
                "activity_id": row.get("activity_id"),
                "idem_key": row["idem_key"],
                "occurred_at": occurred_at,
                "expires_on": expires_on,
            }
        )
    return insert_ignoring_conflicts(session, PointsEntry, prepared, on=["idem_key"])


def recompute_members(
    *,
    session: Session,
    member_ids: Iterable[int] | None,
    now: datetime,
    review: bool = False,
    notify: bool = True,
    settings: Settings,
) -> list[MemberChange]:
    """Set points = sum(ledger), rank by points, tier by points or service visits.

    Tiers only rise, except with `review=True` (the yearly review), where they follow the
    numbers down too. `member_ids=None` recomputes every member. Returns every member that
    changed; when `notify` is true, those that rose (`change.rose`) and those whose tier fell
    at the review are notified, in this same transaction.
    """
    policy = tier_policy(settings)
    sums = (
        select(PointsEntry.member_id, func.sum(PointsEntry.amount).label("total"))
        .group_by(PointsEntry.member_id)
        .subquery()
    )
    base = select(
        Member.id,
        Member.member_no,
        Member.name,
        Member.points,
        Member.rank,
        Member.tier,
        Member.service_visits,
        func.coalesce(sums.c.total, 0),
    ).outerjoin(sums, sums.c.member_id == Member.id)
    if member_ids is None:
        batches = [session.execute(base).all()]
    else:
        ids = sorted(set(member_ids))
        batches = (session.execute(base.where(Member.id.in_(b))).all() for b in chunks(ids))

    changes: list[MemberChange] = []
    for rows in batches:
        spent = purchases_within_year(
            session=session, member_ids=[row[0] for row in rows], as_of=now
        )
        for member_id, no, name, points, rank, tier, services, total in rows:
            total = int(total)
            new_rank = rank_for(total)
            new_tier = tier_for(
                total,
                services,
                tier,
                policy,
                review=review,
                purchases_yuan=spent.get(member_id, 0.0),
            )
            if (total, new_rank, new_tier) != (points, rank, MemberTier(tier)):
                changes.append(
                    MemberChange(
                        member_id,
                        no,
                        name,
                        points,
                        total,
                        rank,
                        new_rank,
                        MemberTier(tier),
                        new_tier,
                    )
                )
    for batch in chunks(changes):
        session.execute(
            update(Member),
            [
                {"id": c.member_id, "points": c.points, "rank": c.rank, "tier": c.tier}
                for c in batch
            ],
        )
    if notify:
        requests = change_notifications(changes, now=now)
        if requests:
            queue_notifications(session=session, requests=requests, now=now, settings=settings)
    return changes


def change_notifications(
    changes: Iterable[MemberChange], *, now: datetime
) -> list[NotificationRequest]:
    """One message per member whose tier changed or whose rank rose: the tier message when
    the tier moved (it names the rank too), else the rank message. Keyed by the new level and
    the day. A rank that falls with expiring points is not announced (the expiry notice
    says it)."""
    day = business_date(now).isoformat()
    requests = []
    for change in changes:
        upcoming = next_rank(change.points)
        context = {
            "name": change.name,
            "points": change.points,
            "rank": change.rank,
            "tier": TIER_ZH[change.tier],
            "next_rank": upcoming[0] if upcoming else None,
            "next_rank_missing": upcoming[1] if upcoming else None,
        }
        if change.tier_rose:
            template, key = "member_tier_up", f"tier-up:{change.tier}"
        elif change.tier != change.old_tier:  # only at the yearly review
            template, key = "member_tier_down", f"tier-down:{change.tier}"
        elif change.rank_rose:
            template, key = "member_rank_up", f"rank-up:{rank_index(change.rank)}"
        else:
            continue
        requests.append(
            NotificationRequest(
                recipient=recipient(change.member_no),
                template=template,
                context=context,
                idem_key=f"member:{change.member_no}:{key}:{day}",
            )
        )
    return requests
