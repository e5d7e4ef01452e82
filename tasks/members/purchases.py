"""A year's purchases per member: the purchase route to silver and gold.

Purchases are the dealer system's purchase bills (`member_transaction`, kind purchase), the
same rows that earn points by spending: one row per transaction id, so a bill read twice
counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from domain.models_points import MemberTransaction
from tasks.common import chunks

YEAR = timedelta(days=365)


def purchases_within_year(
    *, session: Session, member_ids: Iterable[int] | None, as_of: datetime
) -> dict[int, float]:
    """Sum of each member's purchases in the 365 days up to `as_of` (members without any
    are absent). `member_ids=None` sums every member."""
    txn = MemberTransaction
    base = (
        select(txn.member_id, func.sum(txn.amount_yuan))
        .where(txn.kind == "purchase")
        .where(txn.occurred_at > as_of - YEAR)
        .where(txn.occurred_at <= as_of)
        .group_by(txn.member_id)
    )
    if member_ids is None:
        return {mid: float(total) for mid, total in session.execute(base).all()}
    totals: dict[int, float] = {}
    for batch in chunks(sorted(set(member_ids))):
        rows = session.execute(base.where(txn.member_id.in_(batch))).all()
        totals.update({mid: float(total) for mid, total in rows})
    return totals
