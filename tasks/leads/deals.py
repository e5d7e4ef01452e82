"""Deals: the follow-up of an accepted lead, recorded by the dealer's staff (portal, CLI), HQ,
or the dealer system's feed (CSV export, paged HTTP), and the conversion it ends in.

The rules are domain.deals'. An order sets `Lead.converted_at` (the order's time) and the
lead's dealer; lost sets `Lead.lost_at`. A feed record is stored once by its own id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select
from sqlmodel import Session

from blocks.systems import ExternalSystem
from clubflow.core.db import insert_ignoring_conflicts, session_scope
from clubflow.core.settings import Settings, get_settings
from domain.deals import (
    DEAL_MOVES,
    LOST_REASONS,
    STAGE_LABELS,
    DealRejected,
    DealRow,
    DealStage,
    check_deal_row,
    check_follow_up,
    follow_up_refusal,
    parse_deal_rows,
    stage_of,
)
from domain.models import Dealer, Lead
from domain.models_deals import LeadFollowUp
from domain.models_leads import LeadHandoff
from domain.permissions import Actor
from domain.privacy import mask_text
from tasks.audit import actor_of, record_refusal
from tasks.common import chunks, run_logger
from tasks.feeds import advance_cursor, fetch_after, optional_system, source_cursor
from tasks.leads.common import LeadsError


class DealRefused(LeadsError):
    """The actor may not record this lead's follow-up (the caller records the refusal)."""


@dataclass(frozen=True)
class Step:
    stage: str
    label: str
    at: datetime
    by: str
    source: str
    reason: str  # the lost reason's label, or ""
    note: str


@dataclass
class DealView:
    """A lead's deal as a page or a command shows it."""

    lead_id: int
    stage: str
    label: str
    accepted_dealer_id: int | None
    accepted_at: datetime | None
    steps: list[Step] = field(default_factory=list)
    next_stages: list[tuple[str, str]] = field(default_factory=list)  # (code, label)
    converted_at: datetime | None = None
    lost_at: datetime | None = None


def accepted_round(*, session: Session, lead_id: int) -> LeadHandoff | None:
    """The hand-off round a dealer accepted (a lead is accepted once)."""
    return session.execute(
        select(LeadHandoff)
        .where(LeadHandoff.lead_id == lead_id, LeadHandoff.accepted_at.is_not(None))
        .order_by(LeadHandoff.round.desc())
        .limit(1)
    ).scalar_one_or_none()


def _rows(session: Session, lead_id: int) -> list[LeadFollowUp]:
    return list(
        session.execute(
            select(LeadFollowUp)
            .where(LeadFollowUp.lead_id == lead_id)
            .order_by(LeadFollowUp.at, LeadFollowUp.id)
        ).scalars()
    )


def deal_view(*, session: Session, lead_id: int) -> DealView:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise LeadsError(f"lead {lead_id} does not exist")
    accepted = accepted_round(session=session, lead_id=lead_id)
    rows = _rows(session, lead_id)
    stage, _at = stage_of([(r.stage, r.at) for r in rows])
    return DealView(
        lead_id=lead_id,
        stage=stage.value,
        label=STAGE_LABELS[stage],
        accepted_dealer_id=accepted.dealer_id if accepted else None,
        accepted_at=accepted.accepted_at if accepted else None,
        steps=[
            Step(
                r.stage,
                STAGE_LABELS[DealStage(r.stage)],
                r.at,
                r.by,
                r.source,
                LOST_REASONS.get(r.reason or "", ""),
                r.note,
            )
            for r in rows
        ],
        next_stages=[(s.value, STAGE_LABELS[s]) for s in DealStage if s in DEAL_MOVES[stage]]
        if accepted
        else [],
        converted_at=lead.converted_at,
        lost_at=lead.lost_at,
    )


def _write(
    session: Session,
    *,
    lead: Lead,
    accepted: LeadHandoff,
    rows: list[LeadFollowUp],
    stage: str,
    at: datetime,
    by: str,
    now: datetime,
    reason: str | None,
    note: str,
    source: str,
    external_id: str | None,
) -> LeadFollowUp | None:
    """Check the step against the deal so far and store it; None when the feed's record is
    stored already. DealRejected (with its field) when the move is wrong."""
    current, current_at = stage_of([(r.stage, r.at) for r in rows])
    step = check_follow_up(
        current=current,
        current_at=current_at or accepted.accepted_at,
        stage=stage,
        at=at,
        now=now,
        reason=reason,
        note=mask_text(note),  # shown on pages: no phone or ID
    )
    values = {
        "lead_id": lead.id,
        "stage": step.stage.value,
        "at": step.at,
        "by": by[:64],
        "source": source,
        "external_id": external_id,
        "reason": step.reason,
        "note": step.note,
        "dealer_id": accepted.dealer_id,
        "recorded_at": now,
    }
    if external_id is not None:
        if not insert_ignoring_conflicts(
            session, LeadFollowUp, [values], on=["source", "external_id"]
        ):
            return None
        row = session.execute(
            select(LeadFollowUp).where(
                LeadFollowUp.source == source, LeadFollowUp.external_id == external_id
            )
        ).scalar_one()
    else:
        row = LeadFollowUp(**values)
        session.add(row)
    if step.stage == DealStage.order:
        lead.converted_at = step.at
        lead.dealer_id = accepted.dealer_id
    elif step.stage == DealStage.lost:
        lead.lost_at = step.at
    session.add(lead)
    session.flush()
    rows.append(row)
    return row


def _check_actor(
    session: Session, *, lead_id: int, actor: Actor | None, username: str
) -> tuple[Lead, LeadHandoff]:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise LeadsError(f"lead {lead_id} does not exist")
    accepted = accepted_round(session=session, lead_id=lead_id)
    problem = follow_up_refusal(
        actor,
        username=username,
        accepted_dealer_id=accepted.dealer_id if accepted else None,
        lead_id=lead_id,
    )
    if problem:
        raise DealRefused(problem)
    if accepted is None:  # HQ, on a lead no dealer accepted
        raise LeadsError(f"lead {lead_id} has not been accepted by a dealer")
    return lead, accepted


def record_follow_up(
    *,
    session: Session,
    lead_id: int,
    stage: str,
    at: datetime,
    actor: str,
    now: datetime,
    reason: str | None = None,
    note: str = "",
) -> DealView:
    """A person records the next step of a lead's deal. `actor` is a username or
    `dealer:<code>`; DealRefused if they may not, LeadsError naming the field if the step is
    wrong."""
    lead, accepted = _check_actor(
        session, lead_id=lead_id, actor=actor_of(session=session, username=actor), username=actor
    )
    try:
        _write(
            session,
            lead=lead,
            accepted=accepted,
            rows=_rows(session, lead_id),
            stage=stage,
            at=at,
            by=actor,
            now=now,
            reason=reason,
            note=note,
            source="person",
            external_id=None,
        )
    except DealRejected as exc:
        raise LeadsError(f"lead {lead_id}: {exc.field}: {exc}") from None
    run_logger("leads").info("lead %s: %s recorded by %s", lead_id, stage, actor)
    return deal_view(session=session, lead_id=lead_id)


# ---------------------------------------------------------------- the dealer system's feed


@dataclass
class DealFeedSummary:
    source: str
    recorded: int = 0
    duplicates: int = 0
    orders: int = 0
    lost: int = 0
    rejected: list[str] = field(default_factory=list)  # one line per record: where and why


def apply_deal_rows(
    *, session: Session, rows: list[DealRow], now: datetime, source: str, where: str = "line"
) -> DealFeedSummary:
    """Store the dealer system's records, each once (its id); a record for a lead its dealer
    did not accept is refused (and recorded), a wrong move rejected naming its field. Per
    lead in time order, so a file may list an order before the visit that led to it."""
    summary = DealFeedSummary(source=source)
    dealers = dict(session.execute(select(Dealer.code, Dealer.id)).all())
    known: set[str] = set()
    for batch in chunks(sorted({r.external_id for r in rows})):
        known.update(
            session.execute(
                select(LeadFollowUp.external_id).where(
                    LeadFollowUp.source == "feed", LeadFollowUp.external_id.in_(batch)
                )
            ).scalars()
        )
    deals: dict[int, tuple[Lead, LeadHandoff, list[LeadFollowUp]]] = {}
    for row in sorted(rows, key=lambda r: (r.lead_id, r.at, r.line_no)):
        if row.external_id in known:
            summary.duplicates += 1
            continue
        by = f"dealer:{row.dealer}"
        try:
            if row.dealer not in dealers:
                raise DealRejected(f"unknown dealer {row.dealer!r}", field="dealer")
            if row.lead_id not in deals:
                actor = Actor(by, "dealer", dealer_id=dealers[row.dealer])
                lead, accepted = _check_actor(
                    session, lead_id=row.lead_id, actor=actor, username=by
                )
                deals[row.lead_id] = (lead, accepted, _rows(session, row.lead_id))
            lead, accepted, history = deals[row.lead_id]
            if accepted.dealer_id != dealers[row.dealer]:
                raise DealRefused(
                    f"{by} may not record the follow-up of lead {row.lead_id}: it is for "
                    "the dealer that accepted it, or HQ"
                )
            if any(h.stage == row.stage for h in history):
                summary.duplicates += 1  # the stage is known already (e.g. from the portal)
                continue
            stored = _write(
                session,
                lead=lead,
                accepted=accepted,
                rows=history,
                stage=row.stage,
                at=row.at,
                by=by,
                now=now,
                reason=row.reason or None,
                note=row.note,
                source="feed",
                external_id=row.external_id,
            )
        except DealRefused as exc:
            record_refusal(
                session=session,
                action="leads.follow_up",
                subject=f"lead:{row.lead_id}",
                actor=by,
                reason=str(exc),
                now=now,
                details={"source": source, "record": row.external_id},
            )
            summary.rejected.append(f"{where} {row.line_no}: dealer: {exc}")
            continue
        except (DealRejected, LeadsError) as exc:
            name = getattr(exc, "field", None) or "lead_id"
            summary.rejected.append(f"{where} {row.line_no}: {name}: {exc}")
            continue
        known.add(row.external_id)
        if stored is None:
            summary.duplicates += 1
            continue
        summary.recorded += 1
        summary.orders += row.stage == DealStage.order
        summary.lost += row.stage == DealStage.lost
    summary.rejected = [mask_text(line) for line in sorted(summary.rejected, key=_position)]
    return summary


def _position(line: str) -> int:
    return int(line.split(" ", 2)[1].rstrip(":"))


def import_deal_bytes(data: bytes, *, session: Session, now: datetime) -> DealFeedSummary:
    """A dealer-system CSV export: good rows stored, each refused one named by line and field."""
    rows, refused = parse_deal_rows(data)
    summary = apply_deal_rows(session=session, rows=rows, now=now, source="csv")
    summary.rejected = sorted([mask_text(r) for r in refused] + summary.rejected, key=_position)
    return summary


def fetch_deal_items(
    *, system: ExternalSystem, cursor: str | None, transport: Any = None
) -> list[dict[str, Any]]:
    """Every record the dealer system's paged API has after `cursor`."""
    return fetch_after(system, "/deals", cursor=cursor, transport=transport)


def apply_fetched_deals(
    *, session: Session, name: str, items: list[dict[str, Any]], now: datetime
) -> DealFeedSummary:
    """Store fetched records (refused ones named by item position) and move the cursor, in
    one transaction."""
    if not items:
        return DealFeedSummary(source=name)
    rows, refused = [], []
    for position, item in enumerate(items, start=1):
        record = {k: "" if v is None else str(v) for k, v in item.items()}
        try:
            rows.append(check_deal_row(position, record, where="item"))
        except DealRejected as exc:
            refused.append(str(exc))
    summary = apply_deal_rows(session=session, rows=rows, now=now, source=name, where="item")
    summary.rejected = sorted([mask_text(r) for r in refused] + summary.rejected, key=_position)
    advance_cursor(session=session, name=name, items=items, now=now)
    return summary


@task(
    name="fetch-dealer-deals",
    retries=2,
    retry_delay_seconds=[5, 30],
    cache_policy=NO_CACHE,
)
def fetch_dealer_deals_task(
    block_name: str | None = None,
    *,
    now: datetime,
    transport: Any = None,
    settings: Settings | None = None,
) -> DealFeedSummary | None:
    """Read new follow-up records from the dealer system's paged API and store them. No
    transaction is held open across the HTTP pages."""
    settings = settings or get_settings()
    name = block_name or settings.leads_dealer_system_block
    system = optional_system(name, "the dealer system")
    if system is None:
        return None
    with session_scope(settings.database_url) as session:
        cursor = source_cursor(session=session, name=name)
    items = fetch_deal_items(system=system, cursor=cursor, transport=transport)
    with session_scope(settings.database_url) as session:
        summary = apply_fetched_deals(session=session, name=name, items=items, now=now)
    run_logger("leads").info(
        "dealer system %s: %s recorded (%s orders, %s lost), %s duplicates, %s rejected",
        name,
        summary.recorded,
        summary.orders,
        summary.lost,
        summary.duplicates,
        len(summary.rejected),
    )
    return summary


@task(name="publish-deal-feed-report")
def publish_deal_feed_report_task(summary: DealFeedSummary | None) -> None:
    if summary is None:
        return
    create_table_artifact(
        key="leads-deal-feed",
        table=[
            {
                "source": summary.source,
                "recorded": summary.recorded,
                "orders": summary.orders,
                "lost": summary.lost,
                "duplicates": summary.duplicates,
                "rejected": len(summary.rejected),
            }
        ],
        description="Follow-up records read from the dealer system",
    )
    if summary.rejected:
        create_table_artifact(
            key="leads-deal-feed-rejects",
            table=[{"record": line} for line in summary.rejected[:200]],
            description="Dealer-system records refused, with the item and the field",
        )
