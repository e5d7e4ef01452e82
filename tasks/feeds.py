"""Feeds read after a cursor: an external system's paged API, read from the last id seen.

Every feed (lead sources, call-centre outcomes, dealer deals, dealer bills) keeps its cursor
in a `LeadSourceCursor` row named after it. The pages are fetched with no transaction open;
the rows they bring and the moved cursor then commit together, so a crash re-reads, and the
rows' own keys make the re-read add nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from blocks.systems import ExternalSystem
from domain.models_leads import LeadSourceCursor
from tasks.common import run_logger
from tasks.http import fetch_all


def id_order(value: str) -> tuple[int, str]:
    """Sort key of a source's ids: numeric ids by value ("10" after "9"), others as text."""
    return (len(value), value) if value.isdigit() else (0, value)


def optional_system(name: str, what: str, *, area: str = "leads") -> ExternalSystem | None:
    """The saved ExternalSystem block `name`; None (and one log line) when `what` is not
    configured, so a deployment without that system simply has nothing to fetch."""
    try:
        return ExternalSystem.load(name)
    except ValueError:
        run_logger(area).info("no %r block saved: %s is not configured", name, what)
        return None


def source_cursor(*, session: Session, name: str) -> str | None:
    """The last id read from feed `name` (None before its first read)."""
    row = session.get(LeadSourceCursor, name)
    return row.cursor if row else None


def fetch_after(
    system: ExternalSystem, path: str, *, cursor: str | None, transport: Any = None
) -> list[dict[str, Any]]:
    """Every item of `path` after `cursor` (the source's own ids, ascending)."""
    params = {"after": cursor} if cursor else None
    return fetch_all(system, path, params=params, transport=transport)


def advance_cursor(
    *, session: Session, name: str, items: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Move feed `name`'s cursor to the highest id read, in the caller's transaction."""
    ids = [str(item["id"]) for item in items if item.get("id") is not None]
    if not ids:
        return
    last = max(ids, key=id_order)
    row = session.get(LeadSourceCursor, name)
    if row is None:
        session.add(LeadSourceCursor(name=name, cursor=last, read_at=now))
    else:
        row.cursor, row.read_at = last, now
