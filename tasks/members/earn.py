"""Points earned by spending: the dealer system's purchase, service and parts bills.

A bill is stored once by its transaction id (`MemberTransaction`), and its points are one
ledger row keyed `txn:<txn_id>`: a file or a feed page read twice adds nothing. The rate per
kind and the member's tier multiplier are settings. Rows go in bulk (chunked multi-row
inserts), never one ORM object per bill: a dealer system's day is large.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.models import Dealer, Member
from domain.models_points import MemberTransaction
from domain.permissions import Actor, role_refusal
from domain.points_earn import TxnRow, spending_points
from tasks.audit import actor_of
from tasks.common import chunks, data_task
from tasks.members.ledger import grant_points, recompute_members

IMPORT_ROLES = ("campaign_manager", "it")


class TransactionsRefused(Exception):
    """The actor may not import transactions (the caller records the refusal)."""


@dataclass
class CreditReport:
    recorded: int = 0
    duplicates: int = 0
    points: int = 0
    members: int = 0
    rejected: list[str] = field(default_factory=list)


def import_refusal(actor: Actor | None, username: str) -> str | None:
    return role_refusal(
        actor, username=username, roles=IMPORT_ROLES, action="importing transactions"
    )


def check_importer(*, session: Session, username: str) -> None:
    reason = import_refusal(actor_of(session=session, username=username), username)
    if reason:
        raise TransactionsRefused(reason)


def _ids(session: Session, column, key, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in chunks(sorted(values)):
        found.update(session.execute(select(key, column).where(key.in_(batch))).all())
    return found


def credit_transactions(
    *,
    session: Session,
    rows: list[TxnRow],
    now: datetime,
    settings: Settings,
    source: str = "import",
    label: str = "line",
) -> CreditReport:
    """Store new bills and credit their points; unknown members or dealers are refused by
    their line (or feed item), the other rows kept."""
    report = CreditReport()
    members = {
        no: (mid, tier) for no, mid, tier in _member_rows(session, {r.member_no for r in rows})
    }
    dealers = _ids(session, Dealer.id, Dealer.code, {r.dealer_code for r in rows if r.dealer_code})
    records, points_of = [], {}
    seen: set[str] = set()
    for row in rows:
        if row.member_no not in members:
            report.rejected.append(f"{label} {row.line}: member_no: {row.member_no!r} is unknown")
            continue
        if row.dealer_code and row.dealer_code not in dealers:
            report.rejected.append(
                f"{label} {row.line}: dealer_code: {row.dealer_code!r} is unknown"
            )
            continue
        if row.txn_id in seen:  # twice in one file: the first one counts
            report.duplicates += 1
            continue
        seen.add(row.txn_id)
        member_id, tier = members[row.member_no]
        records.append(
            {
                "txn_id": row.txn_id,
                "member_id": member_id,
                "kind": row.kind,
                "amount_yuan": row.amount_yuan,
                "occurred_at": row.occurred_at,
                "dealer_id": dealers.get(row.dealer_code) if row.dealer_code else None,
                "source": source,
                "recorded_at": now,
            }
        )
        points_of[row.txn_id] = spending_points(
            row.amount_yuan,
            settings.points_per_yuan.get(row.kind, 0.0),
            settings.tier_points_multiplier.get(str(tier), 1.0),
        )
    new_ids = insert_ignoring_conflicts(session, MemberTransaction, records, on=["txn_id"])
    report.recorded, report.duplicates = (
        len(new_ids),
        report.duplicates + len(records) - len(new_ids),
    )
    if not new_ids:
        return report
    if len(new_ids) == len(records):
        fresh = records  # the usual case: every bill is new, no need to ask which
    else:
        new_txns: set[str] = set()
        for batch in chunks(new_ids):
            new_txns.update(
                session.execute(
                    select(MemberTransaction.txn_id).where(MemberTransaction.id.in_(batch))
                ).scalars()
            )
        fresh = [r for r in records if r["txn_id"] in new_txns]
    grants = [
        {
            "member_id": record["member_id"],
            "amount": points_of[record["txn_id"]],
            "reason": f"spend:{record['kind']}",
            "idem_key": f"txn:{record['txn_id']}",
            "occurred_at": record["occurred_at"],
        }
        for record in fresh
        if points_of[record["txn_id"]] > 0
    ]
    grant_points(session=session, rows=grants, settings=settings)
    touched = sorted({g["member_id"] for g in grants})
    report.points = sum(g["amount"] for g in grants)
    report.members = len(touched)
    if touched:
        recompute_members(session=session, member_ids=touched, now=now, settings=settings)
    return report


def _member_rows(session: Session, numbers: set[str]):
    for batch in chunks(sorted(numbers)):
        yield from session.execute(
            select(Member.member_no, Member.id, Member.tier).where(Member.member_no.in_(batch))
        ).all()


credit_transactions_task = data_task(credit_transactions)
