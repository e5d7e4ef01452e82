"""The dealer system's bills over HTTP: the `dealer-system` block's paged `/transactions`
API, read after a cursor, credited like the CSV import (`tasks.members.earn`).

Items: {"id": feed sequence, "txn_id", "member_no", "kind", "amount_yuan", "occurred_at",
"dealer"}; a refused item is named by its position. The cursor (its own row,
`dealer-system:transactions`, beside the deal feed's) moves in the same transaction as the
credits, and no transaction is held open across the HTTP pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from blocks.systems import ExternalSystem
from clubflow.core.db import session_scope
from clubflow.core.settings import Settings, get_settings
from domain.points_earn import check_txn_record
from domain.tabular import line_error
from tasks.common import run_logger
from tasks.feeds import advance_cursor, fetch_after, optional_system, source_cursor
from tasks.members.earn import CreditReport, credit_transactions

CURSOR_SUFFIX = ":transactions"


def fetch_transaction_items(
    *, system: ExternalSystem, cursor: str | None, transport: Any = None
) -> list[dict[str, Any]]:
    return fetch_after(system, "/transactions", cursor=cursor, transport=transport)


def credit_fetched_transactions(
    *, session: Session, name: str, items: list[dict[str, Any]], now: datetime, settings: Settings
) -> CreditReport:
    if not items:
        return CreditReport()
    rows, refused = [], []
    for position, item in enumerate(items, start=1):
        record = {k: "" if v is None else str(v) for k, v in item.items()}
        record.setdefault("dealer_code", record.get("dealer", ""))
        if not record.get("txn_id"):
            record["txn_id"] = record.get("id", "")
        checked = check_txn_record(position, record)
        if isinstance(checked, tuple):
            refused.append(line_error(position, *checked).replace("line", "item", 1))
        else:
            rows.append(checked)
    report = credit_transactions(
        session=session, rows=rows, now=now, settings=settings, source="feed", label="item"
    )
    report.rejected = refused + report.rejected
    advance_cursor(session=session, name=name, items=items, now=now)
    return report


@task(
    name="fetch-dealer-transactions", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE
)
def fetch_dealer_transactions_task(
    block_name: str | None = None,
    *,
    now: datetime,
    transport: Any = None,
    settings: Settings | None = None,
) -> CreditReport | None:
    """Read new bills from the dealer system and credit them; None when no block is saved."""
    settings = settings or get_settings()
    block = block_name or settings.leads_dealer_system_block
    system = optional_system(block, "the dealer system", area="members")
    if system is None:
        return None
    name = f"{block}{CURSOR_SUFFIX}"
    with session_scope(settings.database_url) as session:
        cursor = source_cursor(session=session, name=name)
    items = fetch_transaction_items(system=system, cursor=cursor, transport=transport)
    with session_scope(settings.database_url) as session:
        report = credit_fetched_transactions(
            session=session, name=name, items=items, now=now, settings=settings
        )
    run_logger("members").info(
        "dealer system %s: %s bills credited (%s points), %s already read, %s rejected",
        block,
        report.recorded,
        report.points,
        report.duplicates,
        len(report.rejected),
    )
    return report
