"""Engine, sessions and migrations of the project's own database (SQLite file or PostgreSQL),
and the two insert-or-ignore helpers every area writes with.

Alembic is imported only to migrate: every command checks the schema's revision first, and
that check reads the version table and the migration files directly (importing alembic and
loading its scripts cost a second of every command)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # alembic's default: env.py names no other
ROWS_PER_STATEMENT = 5000  # rows per INSERT batch: well under SQLite's and PostgreSQL's limits


class DatabaseError(RuntimeError):
    """The database named by the settings cannot be used; the message says which and why."""


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


@lru_cache(maxsize=8)
def get_engine(url: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseError(f"CLUBFLOW_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement must not print phones or message texts into logs.
        engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def check_database(url: str) -> None:
    """Fail early, naming the database, instead of at the first query of a 3 a.m. run."""
    try:
        with get_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot reach database {safe_url(url)}: {reason}") from exc


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; a database made by an earlier version upgrades in place."""
    from alembic import command

    check_database(url)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The schema's revision as alembic recorded it; None for a database never migrated."""
    with get_engine(url).connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        versions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        found = list(versions)
    if len(found) > 1:  # alembic's own check: the chain here never branches
        raise DatabaseError(f"{safe_url(url)} is at several revisions at once: {found}")
    return found[0] if found else None


# A migration file's `revision = "0026"` and `down_revision = "0022"` (or None) lines.
_REVISION_LINE = re.compile(
    r"""^(revision|down_revision)\b[^=\n]*=\s*(?:(['"])([^'"\n]+)\2|None)\s*$""", re.MULTILINE
)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of the migration files, read from their revision lines; alembic
    reads the scripts itself when those lines do not tell (a merge, a branch)."""
    parent: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        lines = {m[0]: m[2] or None for m in _REVISION_LINE.findall(path.read_text("utf-8"))}
        if not lines.get("revision") or "down_revision" not in lines:
            return _alembic_head()
        parent[lines["revision"]] = lines["down_revision"]
    heads = set(parent) - set(parent.values())
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def insert_ignoring_conflicts(
    session: Session, model: type, rows: list[dict], *, on: list[str]
) -> list[int]:
    """Insert rows, skipping those whose `on` columns already exist; returns the new keys.

    The unique constraint decides, not a prior SELECT, so two writers never duplicate a row.
    """
    if not rows:
        return []
    table = model.__table__
    insert = _insert_of(session.get_bind().dialect.name)
    [key] = table.primary_key.columns  # every table here has a one-column key
    stmt = insert(table).on_conflict_do_nothing(index_elements=on).returning(key)
    ids: list[int] = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        batch = rows[start : start + ROWS_PER_STATEMENT]
        ids.extend(session.execute(stmt, batch).scalars().all())
    return ids


def _insert_of(dialect: str):
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise DatabaseError(f"unsupported database dialect {dialect!r}")
    return insert


def bulk_insert_ignoring_conflicts(
    session: Session, model: type, rows: list[dict], *, on: list[str]
) -> int:
    """Like insert_ignoring_conflicts for thousands of rows; returns how many were new (no
    RETURNING: callers count what they need).

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
    insert = _insert_of(dialect.name)
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
    for start in range(0, len(params), ROWS_PER_STATEMENT):
        batch = params[start : start + ROWS_PER_STATEMENT]
        inserted += connection.exec_driver_sql(compiled.string, batch).rowcount
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
