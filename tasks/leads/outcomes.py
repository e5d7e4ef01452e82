"""Call outcomes from the call centre (CSV, paged HTTP, one at a time from the CLI).

The pure state machine (domain.leads_outcomes) decides; this step loads the leads of a batch
in a few queries, applies each outcome in memory and writes attempts and lead updates in bulk,
all in one transaction. A replayed outcome (same lead, call and code) is a duplicate, not an
error; the unique (lead_id, call_no) of CallAttempt backs that up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from blocks.systems import ExternalSystem
from clubflow.core.db import insert_ignoring_conflicts, session_scope
from clubflow.core.settings import Settings, get_settings
from domain.calendar import business_date
from domain.leads_csv import OutcomeRow, Reject, check_outcome, parse_outcomes
from domain.leads_outcomes import (
    LABELS,
    LeadState,
    Outcome,
    OutcomeRejected,
    Transition,
    apply_outcome,
    parse_outcome,
)
from domain.leads_plan import CallPlan
from domain.models import CallAttempt, Lead, LeadImport, LeadStatus, Person
from domain.models_leads import LeadReject
from domain.privacy import mask_text
from domain.tabular import content_hash
from tasks.common import chunks, run_logger
from tasks.feeds import advance_cursor, fetch_after, optional_system, source_cursor


@dataclass
class OutcomeSummary:
    source: str
    already_imported: bool = False
    applied: int = 0
    duplicates: int = 0
    closed_valid: int = 0
    closed_invalid: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line/item, masked reason)


def _lead_states(
    session: Session, lead_ids: list[int]
) -> tuple[dict[int, dict[str, Any]], dict[tuple[int, int], str]]:
    """The batch's leads (by id) and the outcomes already recorded (by lead and call)."""
    state: dict[int, dict[str, Any]] = {}
    recorded: dict[tuple[int, int], str] = {}
    for batch in chunks(lead_ids):
        for lead in session.execute(
            select(
                Lead.id,
                Lead.status,
                Lead.next_call_no,
                Lead.call_day,
                Lead.third_call_due,
                Lead.agent_id,
                Lead.arrived_at,
            ).where(Lead.id.in_(batch))
        ).all():
            state[lead.id] = dict(lead._mapping)
        for lead_id, call_no, outcome in session.execute(
            select(CallAttempt.lead_id, CallAttempt.call_no, CallAttempt.outcome).where(
                CallAttempt.lead_id.in_(batch)
            )
        ).all():
            recorded[(lead_id, call_no)] = outcome
    return state, recorded


def _transition(
    row: OutcomeRow,
    lead: dict[str, Any] | None,
    previous: str | None,
    outcome: Outcome,
) -> Transition | None:
    """The lead's move for this row; None for a replay of the recorded outcome."""
    if lead is None:
        raise OutcomeRejected(f"unknown lead {row.lead_id} (线索不存在)")
    if previous is not None:
        if previous == outcome.value:
            return None
        raise OutcomeRejected(
            f"call {row.call_no} of lead {row.lead_id} is already recorded as "
            f"{LABELS.get(previous, previous)} (重复结果)"
        )
    plan = CallPlan(
        lead["call_day"] or business_date(lead["arrived_at"]),
        lead["third_call_due"] or business_date(lead["arrived_at"]),
    )
    return apply_outcome(
        LeadState(str(lead["status"]), lead["next_call_no"], plan),
        call_no=row.call_no,
        outcome=outcome,
        called_at=row.called_at,
        appointment_at=row.appointment_at,
    )


def _write_outcomes(
    session: Session, attempts: list[dict[str, Any]], changed: dict[int, dict[str, Any]]
) -> None:
    insert_ignoring_conflicts(session, CallAttempt, attempts, on=["lead_id", "call_no"])
    if not changed:
        return
    table = Lead.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("lead_id"))
        .values(
            status=bindparam("status"),
            outcome=bindparam("outcome"),
            next_call_no=bindparam("next_call_no"),
            next_call_due=bindparam("next_call_due"),
            appointment_at=bindparam("appointment_at"),
            appointment_notified_at=None,
            closed_at=bindparam("closed_at"),
        )
    )
    for batch in chunks(list(changed.values())):
        session.execute(statement, list(batch), execution_options={"synchronize_session": False})


def apply_outcome_rows(
    *, session: Session, rows: list[OutcomeRow], now: datetime, source: str
) -> tuple[OutcomeSummary, list[Reject]]:
    """Apply a batch of outcomes; every bad one becomes a reject naming its line and reason."""
    summary = OutcomeSummary(source=source)
    rejects: list[Reject] = []
    state, recorded = _lead_states(session, sorted({row.lead_id for row in rows}))
    agents = dict(
        session.execute(
            select(Person.username, Person.id).where(
                Person.username.in_({row.agent for row in rows if row.agent})
            )
        ).all()
    )
    attempts: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    # Per lead in call order, so a file may list call 2 before call 1 of the same lead.
    for row in sorted(rows, key=lambda r: (r.lead_id, r.call_no, r.line_no)):
        lead = state.get(row.lead_id)
        try:
            outcome = parse_outcome(row.outcome)
            transition = _transition(row, lead, recorded.get((row.lead_id, row.call_no)), outcome)
        except OutcomeRejected as exc:
            rejects.append(Reject(row.line_no, f"line {row.line_no}: lead {row.lead_id}: {exc}"))
            continue
        if transition is None:
            summary.duplicates += 1
            continue
        attempts.append(
            {
                "lead_id": row.lead_id,
                "call_no": row.call_no,
                "outcome": outcome.value,
                "agent_id": agents.get(row.agent) or lead["agent_id"],
                "called_at": row.called_at,
                "appointment_at": row.appointment_at,
                "resolution": transition.resolution.value,
                "recorded_at": now,
            }
        )
        recorded[(row.lead_id, row.call_no)] = outcome.value
        lead["status"] = transition.status
        lead["next_call_no"] = transition.next_call_no or row.call_no
        changed[row.lead_id] = {
            "lead_id": row.lead_id,
            "status": transition.status,
            "outcome": transition.resolution.value,
            "next_call_no": transition.next_call_no or row.call_no,
            "next_call_due": transition.next_call_due,
            "appointment_at": transition.appointment_at,
            "closed_at": row.called_at if transition.closed else None,
        }
        summary.applied += 1
        if transition.status == LeadStatus.valid:
            summary.closed_valid += 1
        elif transition.status == LeadStatus.invalid:
            summary.closed_invalid += 1
    _write_outcomes(session, attempts, changed)
    summary.rejected = len(rejects)
    summary.rejects = [(r.line_no, mask_text(r.reason)) for r in rejects[:50]]
    return summary, rejects


def import_outcome_bytes(
    data: bytes, *, session: Session, source: str, filename: str | None, now: datetime
) -> OutcomeSummary:
    """Import an outcome file once (its content hash); a second import adds nothing."""
    rows, parse_rejects = parse_outcomes(data, received_at=now)
    ids = insert_ignoring_conflicts(
        session,
        LeadImport,
        [
            {
                "source": source,
                "content_hash": content_hash(data),
                "filename": filename,
                "kind": "outcomes",
                "business_day": business_date(now),
                "imported_at": now,
                "rows": len(rows) + len(parse_rejects),
                "created": 0,
                "merged": 0,
                "rejected": 0,
            }
        ],
        on=["content_hash"],
    )
    if not ids:
        return OutcomeSummary(source=source, already_imported=True)
    summary, rejects = apply_outcome_rows(session=session, rows=rows, now=now, source=source)
    rejects = sorted(parse_rejects + rejects, key=lambda r: r.line_no)
    insert_ignoring_conflicts(
        session,
        LeadReject,
        [
            {"import_id": ids[0], "line_no": r.line_no, "reason": r.reason, "raw": r.raw}
            for r in rejects
        ],
        on=["import_id", "line_no"],
    )
    session.execute(
        update(LeadImport)
        .where(LeadImport.id == ids[0])
        .values(created=summary.applied, rejected=len(rejects))
    )
    summary.rejected = len(rejects)
    summary.rejects = [(r.line_no, mask_text(r.reason)) for r in rejects[:50]]
    return summary


def fetch_outcome_items(
    *, system: ExternalSystem, cursor: str | None, transport: Any = None
) -> list[dict[str, Any]]:
    """Every outcome the call centre's paged API has after `cursor`."""
    return fetch_after(system, "/outcomes", cursor=cursor, transport=transport)


def apply_fetched_outcomes(
    *, session: Session, name: str, items: list[dict[str, Any]], now: datetime
) -> OutcomeSummary:
    """Apply fetched outcomes (rejects by item position) and move the cursor, atomically."""
    if not items:
        return OutcomeSummary(source=name)
    rows, rejects = [], []
    for position, item in enumerate(items, start=1):
        record = {k: "" if v is None else str(v) for k, v in item.items()}
        try:
            rows.append(check_outcome(position, record, received_at=now))
        except ValueError as exc:
            rejects.append(Reject(position, str(exc).replace("line", "item", 1), json.dumps(item)))
    summary, applied_rejects = apply_outcome_rows(session=session, rows=rows, now=now, source=name)
    advance_cursor(session=session, name=name, items=items, now=now)
    all_rejects = rejects + applied_rejects
    summary.rejected = len(all_rejects)
    summary.rejects = [(r.line_no, mask_text(r.reason)) for r in all_rejects[:50]]
    return summary


# ---------------------------------------------------------------- tasks
# These two manage their own transactions: one per file, so a bad file leaves the others
# imported; and no transaction held open across the call centre's HTTP pages.


@task(name="import-outcome-files", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def import_outcome_files_task(
    files: list[str], now: datetime, settings: Settings | None = None
) -> list[OutcomeSummary]:
    """Import call-outcome CSV files exported by the call centre."""
    settings = settings or get_settings()
    summaries = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"outcome file {path} does not exist")
        with session_scope(settings.database_url) as session:
            summary = import_outcome_bytes(
                path.read_bytes(), session=session, source="csv", filename=path.name, now=now
            )
        run_logger("leads").info(
            "%s: %s applied, %s duplicates, %s rejected%s",
            path.name,
            summary.applied,
            summary.duplicates,
            summary.rejected,
            " (already imported)" if summary.already_imported else "",
        )
        summaries.append(summary)
    return summaries


@task(
    name="fetch-call-centre-outcomes",
    retries=2,
    retry_delay_seconds=[5, 30],
    cache_policy=NO_CACHE,
)
def fetch_call_centre_outcomes_task(
    block_name: str | None = None,
    *,
    now: datetime,
    transport: Any = None,
    settings: Settings | None = None,
) -> OutcomeSummary | None:
    """Read new outcomes from the call centre's paged API and apply them."""
    settings = settings or get_settings()
    name = block_name or settings.leads_call_centre_block
    log = run_logger("leads")
    system = optional_system(name, "the call-centre API")
    if system is None:
        return None
    with session_scope(settings.database_url) as session:
        cursor = source_cursor(session=session, name=name)
    items = fetch_outcome_items(system=system, cursor=cursor, transport=transport)
    with session_scope(settings.database_url) as session:
        summary = apply_fetched_outcomes(session=session, name=name, items=items, now=now)
    log.info(
        "call centre %s: %s applied, %s duplicates, %s rejected",
        name,
        summary.applied,
        summary.duplicates,
        summary.rejected,
    )
    return summary
