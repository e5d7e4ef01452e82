"""Helpers shared by the lead tasks: logging, channels, day bounds, batching."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from sqlmodel import Session

from blocks.channels import NotificationChannels
from domain.calendar import BUSINESS_TZ

T = TypeVar("T")
IN_BATCH = 5000  # values per IN (...) list: well under SQLite's and PostgreSQL's limits


class LeadsError(ValueError):
    """A lead operation was refused; the message says which lead and why."""


def logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("clubflow.leads")


def chunks(items: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
) -> None:
    """Like clubflow.db.insert_ignoring_conflicts, without RETURNING: a plain executemany,
    which psycopg pipelines and sqlite3 loops in C. 20,000 rows with RETURNING cost
    PostgreSQL a 20,000-parameter statement per 1,000 rows; callers count what they need."""
    if not rows:
        return
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).on_conflict_do_nothing(index_elements=on)
    for batch in chunks(rows):
        session.execute(statement, list(batch))
