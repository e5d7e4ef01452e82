"""What every command group shares: one console, one way to fail, one way to read a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

import typer
from rich.console import Console

from domain.calendar import BUSINESS_TZ

console = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """A clear one-line error instead of a traceback; exit code 2 (1 for a refusal)."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=code)


NOW_HELP = "Act as of this time (ISO; default: now; without a zone: Asia/Shanghai)"


def parse_now(value: str | None) -> datetime:
    """`--now`/`--at` options: ISO time; a time without zone is business time (Shanghai)."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"not an ISO time: {value!r} (e.g. 2026-10-11T18:00+08:00)")
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)
