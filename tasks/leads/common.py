"""Helpers shared by the lead tasks: channels, day bounds, batch steps, bulk inserts."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from blocks.channels import NotificationChannels
from blocks.systems import ExternalSystem
from domain.calendar import BUSINESS_TZ
from domain.models_leads import LeadSourceCursor
from tasks.common import run_logger


class LeadsError(ValueError):
    """A lead operation was refused; the message says which lead and why."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a batch step (reference counting still frees).

    Parsing and storing 20,000 leads allocates some 100,000 dicts, rows and tuples: each
    700 allocations start a collection, and the full ones walk the whole heap (Prefect's
    included): a quarter of a second per import. The batch code makes no reference cycles,
    so collecting once afterwards loses nothing. Also a decorator: `@paused_gc()`.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where an Asia/Shanghai business day starts and ends."""
    start = datetime.combine(day, time(0), BUSINESS_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def optional_channels() -> NotificationChannels | None:
    """The channels block, to check recipients before queueing; None when it is not saved
    (the outbox still refuses unknown recipients by the store)."""
    from tasks.outbox import load_channels

    try:
        return load_channels()
    except ValueError:
        return None


def optional_system(name: str, what: str) -> ExternalSystem | None:
    """The saved ExternalSystem block `name`; None (and one log line) when `what` is not
    configured, so a deployment without that system simply has nothing to fetch."""
    try:
        return ExternalSystem.load(name)
    except ValueError:
        run_logger("leads").info("no %r block saved: %s is not configured", name, what)
        return None


# The flows load the channels once and hand them to each step that queues notifications.
load_lead_channels_task = task(optional_channels, name="load-lead-channels", cache_policy=NO_CACHE)


def export_dir(root: str, day: date) -> Path:
    path = Path(root) / day.isoformat()
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_cursor(*, session: Session, name: str) -> str | None:
    """The last id read from feed `name` (None before its first read)."""
    row = session.get(LeadSourceCursor, name)
    return row.cursor if row else None


def after_cursor(cursor: str | None) -> dict[str, str] | None:
    return {"after": cursor} if cursor else None


def advance_cursor(
    *, session: Session, name: str, items: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Move feed `name`'s cursor to the highest id read, in the caller's transaction, so the
    rows and the cursor commit together."""
    ids = [str(item["id"]) for item in items if item.get("id") is not None]
    if not ids:
        return
    last = max(ids, key=id_order)
    row = session.get(LeadSourceCursor, name)
    if row is None:
        session.add(LeadSourceCursor(name=name, cursor=last, read_at=now))
    else:
        row.cursor, row.read_at = last, now


def id_order(value: str) -> tuple[int, str]:
    """Sort key of a source's ids: numeric ids by value ("10" after "9"), others as text."""
    return (len(value), value) if value.isdigit() else (0, value)


def in_values(
    session: Session, column: sa.ColumnElement, values: Sequence[str]
) -> sa.ColumnElement:
    """`column IN values` as ONE bound parameter (a JSON array on SQLite, an array on
    PostgreSQL): thousands of values without thousands of bind names to compile."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.func.any(sa.bindparam("values_", list(values), type_=sa.ARRAY(sa.Text)))
    return column.in_(
        sa.select(sa.column("value")).select_from(
            sa.func.json_each(sa.bindparam("values_", json.dumps(list(values))))
        )
    )
