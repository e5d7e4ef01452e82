"""Intake: read lead files and the HTTP source, dedupe against open leads, store in one go.

One file (or one fetched batch) is one transaction: its LeadImport row (unique content hash),
its new leads (unique source_ref), its merges and its rejects commit together, so a crash
leaves either all of it or nothing, and a second import of the same bytes adds nothing.

Nothing is lost: a row refused for a reason that can change (its city has no dealer yet) is a
*pending* reject that keeps its record and its lead key; every intake run tries the pending
rows again (`retry_pending_leads`), so once the dealers exist the leads come in, once each.
Only rows refused for good (a bad phone, an unreadable line) are final.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from blocks.systems import ExternalSystem
from clubflow.core.db import (
    bulk_insert_ignoring_conflicts,
    insert_ignoring_conflicts,
    session_scope,
)
from clubflow.core.settings import Settings, get_settings
from domain.calendar import BUSINESS_TZ, business_date
from domain.leads_csv import (
    LEAD_COLUMNS,
    LeadRow,
    ParsedLeads,
    Reject,
    check_lead,
    parse_lead_chunks,
    reject_of,
)
from domain.leads_plan import AgentSlot, CallPlan, ServiceHours, assign_leads, call_plan
from domain.models import Dealer, Lead, LeadImport, LeadStatus
from domain.models_leads import LeadReject
from domain.models_outlets import Outlet, OutletStatus
from domain.privacy import mask_text
from domain.tabular import (
    TableError,
    content_hash,
    line_blocks,
    parse_column_map,
    scan_blocks,
)
from tasks.audit import record_refusal, retry_unless_refused
from tasks.common import chunks, data_task, run_logger
from tasks.feeds import advance_cursor, fetch_after, optional_system, source_cursor
from tasks.leads.assignment import agents_on_duty
from tasks.leads.common import (
    export_dir,
    in_values,
    paused_gc,
)
from tasks.leads.roster import service_hours


@dataclass
class ImportSummary:
    source: str
    filename: str | None
    import_id: int | None = None
    already_imported: bool = False
    encoding: str | None = None
    rows: int = 0
    created: int = 0
    assigned: int = 0
    merged: int = 0
    rejected: int = 0  # refused for good
    pending: int = 0  # kept: tried again by every intake run until their dealer exists
    refused: str | None = None  # the file as a whole was refused (e.g. a column missing)
    rejects_csv: str | None = None
    # Masked, for artifacts and the CLI: line number and reason.
    reject_samples: list[tuple[int, str]] = field(default_factory=list)


# ---------------------------------------------------------------- data functions


def known_cities(*, session: Session) -> dict[str, str]:
    """City → region of the active dealers: a lead's city must be one the network serves.
    A city an active second-tier outlet covers is served too, through its parent dealer
    (in the parent's region)."""
    rows = session.execute(
        select(Dealer.city, Dealer.region_code).where(Dealer.active.is_(True))
    ).all()
    cities = {city: region for city, region in rows}
    outlets = session.execute(
        select(Outlet.cities, Dealer.region_code)
        .join(Dealer, Dealer.id == Outlet.dealer_id)
        .where(Outlet.status == OutletStatus.active, Dealer.active.is_(True))
    ).all()
    for covered, region in outlets:
        for city in covered:
            cities.setdefault(city, region)
    return cities


class _PlanCache:
    """domain.leads_plan.call_plan's days per (arrival date, before that day's close): the
    days depend on nothing else, and 20,000 leads share a handful of such keys."""

    def __init__(self, hours: ServiceHours) -> None:
        self.hours = hours
        self.cache: dict[tuple[date, bool], CallPlan] = {}
        # And per arrival instant: a file's rows share a few hundred minutes.
        self.by_instant: dict[datetime, tuple[date, date, date]] = {}

    def plan(self, arrived_at: datetime) -> tuple[date, date, date]:
        """(local arrival day, call day, third call's day)."""
        found = self.by_instant.get(arrived_at)
        if found is not None:
            return found
        local = arrived_at.astimezone(BUSINESS_TZ)
        key = (local.date(), local < self.hours.day_closes(local.date()))
        days = self.cache.get(key)
        if days is None:
            days = self.cache[key] = call_plan(local, hours=self.hours)
        found = self.by_instant[arrived_at] = (local.date(), days.call_day, days.third_call_due)
        return found


def _open_leads_by_phone(
    *, session: Session, phones: list[str], since: datetime, import_id: int | None = None
) -> dict[str, tuple[int, list[str]]]:
    """Open leads within the window, by normalised phone (the oldest wins); with `import_id`,
    also that import's own leads (stored by its earlier chunks, whatever their arrival)."""
    found: dict[str, tuple[int, list[str]]] = {}
    window = (Lead.status == LeadStatus.open) & (Lead.arrived_at >= since)
    if import_id is not None:
        window = window | (Lead.import_id == import_id)
    for batch in chunks(phones, 50_000):
        rows = session.execute(
            select(Lead.phone, Lead.id, Lead.sources)
            .where(in_values(session, Lead.phone, batch))
            .where(window)
            .order_by(Lead.id)
        ).all()
        for phone, lead_id, sources in rows:
            found.setdefault(phone, (lead_id, list(sources or [])))
    return found


class _FileState:
    """What one import carries from chunk to chunk: the cities served, the agents' slots
    (each chunk's assignment continues where the last one left the agents' loads), and the
    first rejects for the artifact."""

    def __init__(self, *, session: Session, ref_prefix: str, import_id: int = 0) -> None:
        self.import_id, self.ref_prefix = import_id, ref_prefix
        self.cities = known_cities(session=session)
        self.slots: list[AgentSlot] | None = None  # read once, at the first chunk's assignment


def open_import(
    *,
    session: Session,
    source: str,
    digest: str,
    filename: str | None,
    encoding: str,
    now: datetime,
) -> ImportSummary:
    """The import's LeadImport row (unique content hash); `already_imported` when these bytes
    were imported before: then nothing more is stored."""
    summary = ImportSummary(source=source, filename=filename, encoding=encoding)
    ids = insert_ignoring_conflicts(
        session,
        LeadImport,
        [
            {
                "source": source,
                "content_hash": digest,
                "filename": filename,
                "kind": "leads",
                "encoding": encoding,
                "business_day": business_date(now),
                "imported_at": now,
                "rows": 0,
                "created": 0,
                "merged": 0,
                "rejected": 0,
            }
        ],
        on=["content_hash"],
    )
    if ids:
        summary.import_id = ids[0]
        return summary
    summary.already_imported = True
    summary.import_id, summary.rows = session.execute(
        select(LeadImport.id, LeadImport.rows).where(LeadImport.content_hash == digest)
    ).one()
    return summary


def store_chunk(
    *,
    session: Session,
    parsed: ParsedLeads,
    state: _FileState,
    now: datetime,
    settings: Settings,
    summary: ImportSummary,
) -> None:
    """Store one chunk of an import: its good rows (merging duplicates, also with the rows of
    the import's earlier chunks) and its rejects; the counts add up in `summary`."""
    summary.rows += len(parsed.rows) + len(parsed.rejects)
    store_rows(
        session=session,
        rows=[(row, state.import_id, f"{state.ref_prefix}:{row.ref}") for row in parsed.rows],
        now=now,
        settings=settings,
        summary=summary,
        state=state,
    )
    final = sum(1 for r in parsed.rejects if not r.pending)
    summary.rejected += final
    summary.pending += len(parsed.rejects) - final
    insert_ignoring_conflicts(
        session,
        LeadReject,
        [
            {
                "import_id": state.import_id,
                "line_no": r.line_no,
                "reason": r.reason,
                "raw": r.raw,
                "pending": r.pending,
                "field": r.field,
                "record": r.record or {},
                # The key the lead will have once stored: a retry stores it once, ever.
                "source_ref": (
                    f"{state.ref_prefix}:{(r.record or {}).get('ref') or f'line{r.line_no}'}"
                    if r.pending
                    else None
                ),
            }
            for r in parsed.rejects
        ],
        on=["import_id", "line_no"],
    )
    room = 50 - len(summary.reject_samples)
    summary.reject_samples += [(r.line_no, mask_text(r.reason)) for r in parsed.rejects[:room]]


def close_import(*, session: Session, summary: ImportSummary) -> None:
    """The import's counts, once all its chunks are stored."""
    session.execute(
        update(LeadImport)
        .where(LeadImport.id == summary.import_id)
        .values(
            rows=summary.rows,
            created=summary.created,
            merged=summary.merged,
            rejected=summary.rejected,
        )
    )


def store_leads(
    *,
    session: Session,
    parsed: ParsedLeads,
    source: str,
    digest: str,
    filename: str | None,
    now: datetime,
    settings: Settings,
    ref_prefix: str,
) -> ImportSummary:
    """Store one batch's good rows (merging duplicates) and rejects; a repeat adds nothing."""
    summary = open_import(
        session=session,
        source=source,
        digest=digest,
        filename=filename,
        encoding=parsed.encoding,
        now=now,
    )
    if summary.already_imported:
        return summary
    state = _FileState(session=session, ref_prefix=ref_prefix, import_id=summary.import_id)
    store_chunk(
        session=session, parsed=parsed, state=state, now=now, settings=settings, summary=summary
    )
    close_import(session=session, summary=summary)
    return summary


def _take(slots: list[AgentSlot], plan: dict[int, int]) -> list[AgentSlot]:
    """The slots after `plan`'s assignments: as agents_on_duty would read them back."""
    given: dict[int, int] = {}
    for agent in plan.values():
        given[agent] = given.get(agent, 0) + 1
    return [
        replace(
            slot,
            open_load=slot.open_load + given.get(slot.agent_id, 0),
            remaining_today=slot.remaining_today - given.get(slot.agent_id, 0),
        )
        for slot in slots
    ]


def store_rows(
    *,
    session: Session,
    rows: list[tuple[LeadRow, int, str]],
    now: datetime,
    settings: Settings,
    summary: ImportSummary,
    plan_from: datetime | None = None,
    state: _FileState | None = None,
) -> dict[str, int | str]:
    """Store checked rows (row, import id, lead key): merge into open leads of the same phone,
    insert the rest (a key stored before is skipped), assign them. `plan_from` starts the
    call plan no earlier than then (a pending row that only now can be called). `state`: the
    import these rows are a chunk of (its earlier chunks' leads take merges like open ones).
    Returns, for each merged row, the open lead's id or the key of the new lead it joined."""
    cities = state.cities if state is not None else known_cities(session=session)
    since = now - timedelta(days=settings.lead_open_window_days)
    phones = sorted({row.phone for row, _, _ in rows})
    existing = _open_leads_by_phone(
        session=session,
        phones=phones,
        since=since,
        import_id=state.import_id if state is not None else None,
    )
    instants = {row.arrived_at for row, _, _ in rows}
    arrivals = [business_date(moment) for moment in instants] + [business_date(now)]
    hours = service_hours(
        session=session, settings=settings, start=min(arrivals), end=max(arrivals)
    )
    plans = _PlanCache(hours)
    new_rows: dict[str, dict[str, Any]] = {}  # phone → row: later duplicates merge into it
    merged_sources: dict[int, list[str]] = {}
    merged_into: dict[str, int | str] = {}
    for row, import_id, source_ref in rows:
        if row.phone in existing:
            lead_id, sources = existing[row.phone]
            sources = merged_sources.setdefault(lead_id, sources)
            if row.source not in sources:
                sources.append(row.source)
            merged_into[source_ref] = lead_id
            summary.merged += 1
            continue
        if row.phone in new_rows:
            sources = new_rows[row.phone]["sources"]
            if row.source not in sources:
                sources.append(row.source)
            merged_into[source_ref] = new_rows[row.phone]["source_ref"]
            summary.merged += 1
            continue
        if plan_from is None:
            arrived_day, call_day, third = plans.plan(row.arrived_at)
        else:
            _, call_day, third = plans.plan(max(row.arrived_at, plan_from))
            arrived_day = plans.plan(row.arrived_at)[0]
        new_rows[row.phone] = {
            "phone": row.phone,
            "name": row.name,
            "model": row.model,
            "city": row.city,
            "region_code": cities.get(row.city),
            "source": row.source,
            "sources": [row.source],
            "arrived_at": row.arrived_at,
            "business_day": arrived_day,
            "status": LeadStatus.open,
            "next_call_no": 1,
            "next_call_due": call_day,
            "call_day": call_day,
            "third_call_due": third,
            "handoff_round": 0,
            "import_id": import_id,
            "source_ref": source_ref,
        }
    # New leads are assigned as they are stored (one UPDATE per lead afterwards would cost
    # more than the insert itself), earliest call day first like assign-leads, so each agent
    # gets a share of today's calls. Leads beyond today's capacity wait for assign-leads.
    rows = sorted(new_rows.values(), key=lambda r: (r["call_day"], r["arrived_at"]))
    slots = state.slots if state is not None else None
    if slots is None:
        slots = agents_on_duty(session=session, now=now, hours=hours)
    plan = assign_leads(range(len(rows)), slots)
    if state is not None:
        state.slots = _take(slots, plan)
    for index, row in enumerate(rows):
        agent = plan.get(index)
        row["agent_id"], row["assigned_at"] = agent, now if agent is not None else None
    summary.assigned += len(plan)
    # Counted by the insert itself (a row whose source_ref exists is skipped, not counted).
    summary.created += bulk_insert_ignoring_conflicts(session, Lead, rows, on=["source_ref"])
    if merged_sources:
        table = Lead.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("lead_id")).values(sources=bindparam("s")),
            [{"lead_id": k, "s": v} for k, v in merged_sources.items()],
            execution_options={"synchronize_session": False},
        )
    return merged_into


@dataclass
class RetrySummary:
    """What a retry of the pending rows did: imported (created or merged), still pending, and
    rows that turned out bad for good."""

    tried: int = 0
    created: int = 0
    merged: int = 0
    assigned: int = 0
    pending: int = 0
    final: int = 0


def retry_pending_leads(*, session: Session, now: datetime, settings: Settings) -> RetrySummary:
    """Try every pending row again against today's master data: a row whose city now has a
    dealer is stored (under the lead key it was given at import: never twice) and resolved."""
    pending = session.execute(
        select(LeadReject, LeadImport.source, LeadImport.imported_at)
        .join(LeadImport, LeadImport.id == LeadReject.import_id)
        .where(LeadReject.pending.is_(True), LeadReject.resolved_at.is_(None))
        .order_by(LeadReject.id)
    ).all()
    result = RetrySummary(tried=len(pending))
    if not pending:
        return result
    cities = set(known_cities(session=session))
    ready: list[tuple[LeadRow, int, str]] = []
    rejects: dict[str, LeadReject] = {}
    for reject, source, imported_at in pending:
        try:
            row = check_lead(
                reject.line_no,
                dict(reject.record or {}),
                known_cities=cities,
                default_source=source,
                received_at=imported_at,
            )
        except ValueError as exc:
            again = reject_of(reject.line_no, exc, reject.raw, reject.record or {})
            if not again.pending:  # e.g. the data was fine but a rule changed: final now
                reject.pending, reject.reason, reject.field = False, again.reason, again.field
                result.final += 1
            else:
                result.pending += 1
            continue
        ready.append((row, reject.import_id, reject.source_ref))
        rejects[reject.source_ref] = reject
    if ready:
        summary = ImportSummary(source="pending", filename=None)
        merged_into = store_rows(
            session=session, rows=ready, now=now, settings=settings, summary=summary, plan_from=now
        )
        # Created rows (and rows merged into one created beside them) are found by lead key.
        keys = {merged_into.get(ref, ref) for ref in rejects}
        keys = sorted(k for k in keys if isinstance(k, str))
        ids: dict[str, int] = {}
        for batch in chunks(keys, 5000):
            ids.update(
                session.execute(
                    select(Lead.source_ref, Lead.id).where(Lead.source_ref.in_(batch))
                ).all()
            )
        for ref, reject in rejects.items():
            target = merged_into.get(ref, ref)
            reject.lead_id = target if isinstance(target, int) else ids.get(target)
            reject.resolved_at = now
        result.created, result.merged, result.assigned = (
            summary.created,
            summary.merged,
            summary.assigned,
        )
    session.flush()
    if result.tried:
        run_logger("leads").info(
            "pending rows: %s tried, %s created, %s merged, %s still pending, %s final",
            result.tried,
            result.created,
            result.merged,
            result.pending,
            result.final,
        )
    return result


class _RejectsFile:
    """The import's rejects as a CSV the source's owner can fix and send again (raw lines
    kept), written chunk by chunk; opened at the first reject (none: no file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle)
            self.writer.writerow(["line", "reason", "raw"])
        self.writer.writerows([r.line_no, r.reason, r.raw] for r in rejects)

    def close(self) -> str | None:
        if self.handle is None:
            return None
        self.handle.close()
        return str(self.path)


class FileChangedError(RuntimeError):
    """The file's bytes changed between the two reads of an import (still being written):
    nothing is stored, and the task's retry reads it again."""


def import_lead_stream(
    open_stream: Callable[[], BinaryIO],
    *,
    session: Session,
    source: str,
    filename: str | None,
    now: datetime,
    settings: Settings,
    column_map: dict[str, str] | None = None,
) -> ImportSummary:
    """Parse and store one lead file in chunks of `leads_intake_chunk_rows` lines, so memory
    stays flat whatever its size; its rejects go to a CSV beside the day's exports.

    Two reads: the first hashes the bytes (a file imported before adds nothing) and chooses
    the encoding as for the whole file; the second parses and stores chunk by chunk. All the
    chunks commit together (the caller's transaction): a crash leaves all of it or nothing.
    `column_map` ({header: column}) names columns the known aliases do not."""
    size = settings.leads_intake_chunk_rows

    def blocks() -> Iterator[bytes]:
        with open_stream() as stream:
            yield from line_blocks(stream, size)

    scan = scan_blocks(blocks)
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for block in blocks():
            digest.update(block)
            yield block

    state = _FileState(session=session, ref_prefix=f"file:{scan.digest[:16]}")
    chunks_of_file = parse_lead_chunks(
        hashed(),
        encoding=scan.encoding,
        known_cities=set(state.cities),
        default_source=source,
        received_at=now,
        column_map=column_map,
    )
    # The first chunk is read first: a header missing a column refuses the file (TableError)
    # before anything is stored, imported before or not.
    first = next(chunks_of_file, None)
    summary = open_import(
        session=session,
        source=source,
        digest=scan.digest,
        filename=filename,
        encoding=scan.encoding,
        now=now,
    )
    if summary.already_imported:
        chunks_of_file.close()
        return summary
    state.import_id = summary.import_id
    # Named by the import's id: a rolled-back import leaves at most a file no row names.
    rejects = _RejectsFile(
        export_dir(settings.leads_export_dir, business_date(now))
        / f"rejects_import{summary.import_id}.csv"
    )
    parsed, first = first, None
    try:
        while parsed is not None:
            # No cyclic collection within a chunk (paused_gc); between chunks it runs as usual.
            with paused_gc():
                store_chunk(
                    session=session,
                    parsed=parsed,
                    state=state,
                    now=now,
                    settings=settings,
                    summary=summary,
                )
                rejects.write(parsed.rejects)
            parsed = None  # freed before the next chunk is read: one chunk in memory at a time
            parsed = next(chunks_of_file, None)
    finally:
        summary.rejects_csv = rejects.close()
    if digest.hexdigest() != scan.digest:
        raise FileChangedError(f"{filename or source}: the file changed while it was read")
    close_import(session=session, summary=summary)
    return summary


def import_lead_bytes(
    data: bytes,
    *,
    session: Session,
    source: str,
    filename: str | None,
    now: datetime,
    settings: Settings,
    column_map: dict[str, str] | None = None,
) -> ImportSummary:
    """`import_lead_stream` of bytes in memory (a small file, a test)."""
    return import_lead_stream(
        lambda: io.BytesIO(data),
        session=session,
        source=source,
        filename=filename,
        now=now,
        settings=settings,
        column_map=column_map,
    )


def column_map_path(inbox: str, source: str) -> Path:
    return Path(inbox) / "columns" / f"{source}.json"


def saved_column_map(inbox: str, source: str) -> dict[str, str]:
    """The mapping saved for a source (`clubflow leads columns SOURCE HEADER=COLUMN ...`):
    its files import with it, by the scheduled runs too."""
    path = column_map_path(inbox, source)
    if not path.is_file():
        return {}
    return parse_column_map(json.loads(path.read_text(encoding="utf-8")), LEAD_COLUMNS)


def save_column_map(inbox: str, source: str, mapping: dict[str, str]) -> Path:
    path = column_map_path(inbox, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def inbox_files(inbox: str) -> list[Path]:
    folder = Path(inbox)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def archive_file(path: Path, inbox: str) -> None:
    """Move an imported inbox file to done/ (only after its import committed)."""
    done = Path(inbox) / "done"
    done.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), done / path.name)


def fetch_source_leads(
    *, system: ExternalSystem, cursor: str | None, transport: Any = None
) -> list[dict[str, Any]]:
    """Every item the paged source has after `cursor` (its own ids, ascending)."""
    return fetch_after(system, "/leads", cursor=cursor, transport=transport)


@paused_gc()
def store_source_items(
    *,
    session: Session,
    name: str,
    items: list[dict[str, Any]],
    now: datetime,
    settings: Settings,
) -> ImportSummary:
    """Store fetched items like a file (rejects by item position) and move the cursor."""
    if not items:
        return ImportSummary(source=name, filename=None)
    data = json.dumps(items, ensure_ascii=False, sort_keys=True, default=str).encode()
    cities = set(known_cities(session=session))
    parsed = ParsedLeads(encoding="json", rows=[], rejects=[])
    for position, item in enumerate(items, start=1):
        record = {k: str(v) if v is not None else "" for k, v in item.items()}
        record["ref"] = str(item.get("id") or f"item{position}")
        try:
            parsed.rows.append(
                check_lead(
                    position,
                    record,
                    known_cities=cities,
                    default_source=name,
                    received_at=now,
                )
            )
        except ValueError as exc:
            reject = reject_of(position, exc, json.dumps(item), record)
            parsed.rejects.append(
                Reject(
                    position,
                    str(exc).replace("line", "item", 1),
                    reject.raw,
                    reject.pending,
                    reject.field,
                    reject.record,
                )
            )
    summary = store_leads(
        session=session,
        parsed=parsed,
        source=name,
        digest=content_hash(data),
        filename=None,
        now=now,
        settings=settings,
        ref_prefix=f"api:{name}",
    )
    advance_cursor(session=session, name=name, items=items, now=now)
    return summary


def enter_dealer_lead(
    *,
    session: Session,
    dealer_code: str,
    record: dict[str, str],
    now: datetime,
    settings: Settings,
) -> ImportSummary:
    """A lead a dealer typed in (walk-in, phone call): checked and deduped like any other,
    recorded with the source `dealer:<code>`. The same entry twice adds nothing."""
    dealer = session.execute(
        select(Dealer).where(Dealer.code == dealer_code).where(Dealer.active.is_(True))
    ).scalar_one_or_none()
    if dealer is None:
        raise ValueError(f"dealer {dealer_code!r} is unknown or inactive")
    source = f"dealer:{dealer_code}"
    row = check_lead(
        1,
        {"city": dealer.city, **record},
        known_cities=set(known_cities(session=session)),
        default_source=source,
        received_at=now,
    )
    key = json.dumps([source, row.phone, row.arrived_at.isoformat()]).encode()
    summary = store_leads(
        session=session,
        parsed=ParsedLeads(encoding="form", rows=[row], rejects=[]),
        source=source,
        digest=content_hash(key),
        filename=None,
        now=now,
        settings=settings,
        ref_prefix=f"dealer:{dealer_code}:{content_hash(key)[:16]}",
    )
    return summary


def refuse_file(path: Path, inbox: str) -> None:
    """Move a refused inbox file to refused/: fixed, it can be put back (nothing else is lost)."""
    folder = Path(inbox) / "refused"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)


# ---------------------------------------------------------------- tasks
# Pending rows (refused for a reason that can change) whose dealer now exists come in.
retry_pending_leads_task = data_task(
    retry_pending_leads,
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=retry_unless_refused,
)

# The two below manage their own transactions: one per file (a refused file leaves the others
# imported, and an inbox file moves only once its import committed), and none held open
# across the HTTP source's pages.


@task(
    name="import-lead-files",
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=retry_unless_refused,
    cache_policy=NO_CACHE,
)
def import_lead_files_task(
    files: list[str] | None = None,
    *,
    now: datetime,
    source: str = "csv",
    column_map: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> list[ImportSummary]:
    """Import the given CSV files, or every file waiting in the inbox folder. A file refused as
    a whole (a required column missing) is recorded as refused; the others go on."""
    settings = settings or get_settings()
    from_inbox = files is None
    paths = inbox_files(settings.leads_inbox_dir) if from_inbox else [Path(f) for f in files]
    log = run_logger("leads")
    summaries = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"lead file {path} does not exist")
        name = source if not from_inbox else path.stem.split("_")[0] or source
        try:
            # The source's saved mapping, then this run's own (which wins).
            mapping = {**saved_column_map(settings.leads_inbox_dir, name), **(column_map or {})}
            with session_scope(settings.database_url) as session:
                summary = import_lead_stream(
                    functools.partial(path.open, "rb"),  # in chunks: never the whole file
                    session=session,
                    source=name,
                    filename=path.name,
                    now=now,
                    settings=settings,
                    column_map=mapping,
                )
        except TableError as exc:
            summary = ImportSummary(source=name, filename=path.name, refused=f"{path.name}: {exc}")
            with session_scope(settings.database_url) as session:
                record_refusal(
                    session=session,
                    action="leads.import",
                    subject=f"file:{path.name}",
                    actor=f"source:{name}",
                    reason=summary.refused,
                    now=now,
                )
            if from_inbox:
                refuse_file(path, settings.leads_inbox_dir)
            log.warning("refused %s", summary.refused)
            summaries.append(summary)
            continue
        if from_inbox:
            archive_file(path, settings.leads_inbox_dir)
        log.info(
            "%s (%s): %s created, %s merged, %s rejected, %s pending%s",
            path.name,
            summary.encoding,
            summary.created,
            summary.merged,
            summary.rejected,
            summary.pending,
            " (already imported)" if summary.already_imported else "",
        )
        summaries.append(summary)
    return summaries


@task(name="fetch-source-leads", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def fetch_source_leads_task(
    block_name: str | None = None,
    *,
    now: datetime,
    transport: Any = None,
    settings: Settings | None = None,
) -> ImportSummary | None:
    """Read the paged HTTP lead source after its cursor and store what is new."""
    settings = settings or get_settings()
    name = block_name or settings.leads_source_block
    log = run_logger("leads")
    system = optional_system(name, "the HTTP lead source")
    if system is None:
        return None
    with session_scope(settings.database_url) as session:
        cursor = source_cursor(session=session, name=name)
    items = fetch_source_leads(system=system, cursor=cursor, transport=transport)
    with session_scope(settings.database_url) as session:
        summary = store_source_items(
            session=session, name=name, items=items, now=now, settings=settings
        )
    log.info(
        "source %s: %s items, %s created, %s merged, %s rejected",
        name,
        len(items),
        summary.created,
        summary.merged,
        summary.rejected,
    )
    return summary
