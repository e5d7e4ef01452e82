"""What every command group shares: one console, one way to fail, one way to read a time, and
the guard every command runs under (one-line errors, the migrated-database check)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any, NoReturn

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from domain.instants import parse_instant
from domain.privacy import mask_text

console = Console()

# `clubflow --debug ...`: errors show their traceback instead of the one line.
DEBUG = {"on": False}

NOT_MIGRATED = "the database is not migrated: run clubflow migrate"


def fail(message: str, code: int = 2) -> NoReturn:
    """A clear one-line error instead of a traceback; exit code 2."""
    if DEBUG["on"] and sys.exc_info()[0] is not None:
        console.print_exception()  # --debug: the traceback of the error being reported
    line = " ".join(str(message).split())  # one line, whatever the message held
    # soft_wrap: a long message stays one line at any terminal width.
    console.print(Text.assemble(("error:", "red"), " ", mask_text(line)), soft_wrap=True)
    raise typer.Exit(code=code)


def error_line(exc: BaseException) -> str:
    """What went wrong, as one line naming the row and field where the error does."""
    import sqlalchemy as sa
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in exc.errors()
        )
    if isinstance(exc, sa.exc.DBAPIError):
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if _missing_table(text):
            return NOT_MIGRATED
        return f"database error: {text.strip().splitlines()[0] if text.strip() else exc}"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (ValueError, LookupError, PermissionError, OSError, RuntimeError)):
        return text
    return f"{type(exc).__name__}: {text} (clubflow --debug ... shows the traceback)"


def _missing_table(text: str) -> bool:
    lowered = text.lower()
    return "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered)


class GuardedGroup(TyperGroup):
    """The top-level command group: any error a command lets through ends as one line
    `error: ...` with exit code 2 (no traceback) unless `--debug` is given."""

    def invoke(self, ctx: click.Context) -> Any:
        # Seen here, before the group hands the rest to the subcommand: `... --help` needs
        # no database.
        words = {*ctx.args, *getattr(ctx, "_protected_args", [])}
        ctx.meta["asks_help"] = bool({"--help", "-h"} & words)
        try:
            return super().invoke(ctx)
        except (typer.Exit, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place every error is turned into a line
            if DEBUG["on"]:
                raise
            from clubflow.stack import no_stack_message, unreachable_api

            api_url = os.environ.get("PREFECT_API_URL", "")
            if api_url and unreachable_api(exc, api_url):
                fail(no_stack_message(api_url))
            fail(error_line(exc))


def require_migrated(url: str) -> None:
    """One answer for every command on a database that is not (fully) migrated."""
    from clubflow.core.db import DatabaseError, check_database, current_revision, head_revision

    try:
        check_database(url)
        current = current_revision(url)
    except DatabaseError as exc:
        fail(str(exc))
    if current is None:
        fail(NOT_MIGRATED)
    head = head_revision()
    if current != head:
        fail(
            f"the database is at revision {current}, this clubflow needs {head}: "
            "run clubflow migrate"
        )


NOW_HELP = "Act as of this time (ISO; default: now; without a zone: Asia/Shanghai)"


def run_now(value: str | None, moment: datetime) -> str | None:
    """`now` for a deployment run: the parsed time when given (so a zoneless time means
    Shanghai there too), else None: the run reads the clock each time it replays."""
    return moment.isoformat() if value else None


def parse_now(value: str | None) -> datetime:
    """`--now`/`--at` options: ISO time; a time without zone is business time (Shanghai)."""
    if not value:
        return datetime.now(UTC)
    try:
        return parse_instant(value)
    except ValueError:
        fail(f"not an ISO time: {value!r} (e.g. 2026-10-11T18:00+08:00)")
