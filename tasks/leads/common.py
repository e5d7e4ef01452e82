"""Helpers shared by the lead tasks: channels, day bounds, batch steps, bulk inserts."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from blocks.channels import NotificationChannels
from domain.calendar import BUSINESS_TZ


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


# The flows load the channels once and hand them to each step that queues notifications.
load_lead_channels_task = task(optional_channels, name="load-lead-channels", cache_policy=NO_CACHE)


def export_dir(root: str, day: date) -> Path:
    path = Path(root) / day.isoformat()
    path.mkdir(parents=True, exist_ok=True)
    return path


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
