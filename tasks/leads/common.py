"""Helpers shared by the lead tasks: channels, day bounds, batch steps, bulk inserts."""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from blocks.channels import NotificationChannels
from domain.calendar import BUSINESS_TZ
from tasks.common import chunks

F = TypeVar("F", bound=Callable[..., Any])


class LeadsError(ValueError):
    """A lead operation was refused; the message says which lead and why."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a batch step (reference counting still frees).

    Parsing and storing 20,000 leads allocates some 100,000 dicts, rows and tuples: each
    700 allocations start a collection, and the full ones walk the whole heap (Prefect's
    included): a quarter of a second per import. The batch code makes no reference cycles,
    so collecting once afterwards loses nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def gc_paused(fn: F) -> F:
    """`fn` runs under `paused_gc` (a batch step; the signature stays fn's, for data_task)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return fn(*args, **kwargs)

    return run  # type: ignore[return-value]


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


def bulk_insert_ignoring_conflicts(
    session: Session, model: type, rows: list[dict], *, on: list[str]
) -> int:
    """Like clubflow.core.db.insert_ignoring_conflicts for thousands of rows; returns how many were
    new (no RETURNING: callers count what they need).

    The statement is compiled once and its parameters handed straight to the driver's
    executemany (sqlite3 loops in C, psycopg pipelines): the ORM's per-row parameter
    processing cost more than SQLite's own insert. Each column's type conversion (UTC
    datetimes, dates, JSON, enums) still runs, through the column type's bind processor,
    once per distinct value: a day's leads share a few hundred times and a handful of dates.
    Every row has the same keys, including every column that has a Python-side default.
    """
    if not rows:
        return 0
    table = model.__table__
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    columns = list(rows[0])
    # The driver gets exactly these columns: Python-side column defaults are not applied.
    lacking = [c.key for c in table.c if c.default is not None and c.key not in rows[0]]
    if lacking:
        raise ValueError(f"bulk insert into {table.name}: rows lack the column(s) {lacking}")
    compiled = (
        insert(table)
        .on_conflict_do_nothing(index_elements=on)
        .compile(dialect=dialect, column_keys=columns)
    )
    order = list(compiled.positiontup) if compiled.positional else columns
    # Column by column: C-level map/zip instead of a Python loop over every cell.
    values = [
        _bind_values(table.c[name].type, dialect, list(map(itemgetter(name), rows)))
        for name in order
    ]
    params: list[tuple] | list[dict]
    if compiled.positional:
        params = list(zip(*values, strict=True))
    else:
        params = [dict(zip(order, row, strict=True)) for row in zip(*values, strict=True)]
    connection = session.connection()
    inserted = 0
    for batch in chunks(params):
        inserted += connection.exec_driver_sql(compiled.string, list(batch)).rowcount
    return inserted


class _Converted(dict):
    """value → its bind-processed form, computed once per distinct value (JSON lists are
    keyed as tuples)."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, key: Any) -> Any:
        found = self[key] = self.process(list(key) if isinstance(key, tuple) else key)
        return found


def _bind_values(type_: sa.types.TypeEngine, dialect: sa.Dialect, values: list) -> list:
    """The column's values as the driver takes them (what the ORM would have bound)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    converted = _Converted(process)
    try:
        if isinstance(type_, sa.JSON):
            return [converted[tuple(v) if isinstance(v, list) else v] for v in values]
        return list(map(converted.__getitem__, values))
    except TypeError:  # an unhashable value (a dict): converted one by one
        return [process(v) for v in values]
