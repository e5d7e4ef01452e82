"""A year's purchases per member: the purchase route to silver and gold.

Purchases are read from `member_purchase` (one row per dealer-system purchase, keyed by its
reference). This is the one place that knows where purchase amounts live, so a different
source (e.g. a dealer-transactions table) only changes this function.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from domain.models_tiers import MemberPurchase
from tasks.common import chunks

YEAR = timedelta(days=365)


def purchases_within_year(
    *, session: Session, member_ids: Iterable[int] | None, as_of: datetime
) -> dict[int, float]:
    """Sum of each member's purchases in the 365 days up to `as_of` (members without any
    are absent). `member_ids=None` sums every member."""
    base = (
        select(MemberPurchase.member_id, func.sum(MemberPurchase.amount_yuan))
        .where(MemberPurchase.occurred_at > as_of - YEAR)
        .where(MemberPurchase.occurred_at <= as_of)
        .group_by(MemberPurchase.member_id)
    )
    if member_ids is None:
        return {mid: float(total) for mid, total in session.execute(base).all()}
    totals: dict[int, float] = {}
    for batch in chunks(sorted(set(member_ids))):
        rows = session.execute(base.where(MemberPurchase.member_id.in_(batch))).all()
        totals.update({mid: float(total) for mid, total in rows})
    return totals


def record_purchases(*, session: Session, rows: list[dict]) -> list[int]:
    """Store purchases once per `ref` (member_id, ref, amount_yuan, occurred_at)."""
    return insert_ignoring_conflicts(session, MemberPurchase, rows, on=["ref"])
