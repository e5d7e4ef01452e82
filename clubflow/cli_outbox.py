"""`clubflow outbox ...`: what the outbox holds, why a message is stuck, and re-queueing.

Recipients, texts and errors are shown masked.
"""

from __future__ import annotations

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import BUSINESS_TZ

app = typer.Typer(help="The notification outbox: list, show, retry.", invoke_without_command=True)

STATUSES = ("pending", "sending", "sent", "dead")


def _when(value) -> str:
    if value is None:
        return ""
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


@app.callback()
def list_messages(
    ctx: typer.Context,
    status: str = typer.Option("", "--status", help=f"One of {', '.join(STATUSES)}"),
    recipient: str = typer.Option("", "--recipient", help="e.g. person:li.na, role:ops"),
    template: str = typer.Option("", "--template", help="e.g. lead_handoff"),
    limit: int = typer.Option(50, "--limit", min=1, max=5000),
) -> None:
    """List messages, newest first: status, recipient, template, attempts, last error, next try."""
    from rich.table import Table

    if ctx.invoked_subcommand is not None:
        return
    from tasks.outbox import list_notifications

    if status and status not in STATUSES:
        fail(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    with session_scope(get_settings().database_url) as session:
        rows = list_notifications(
            session=session,
            status=status or None,
            recipient=recipient or None,
            template=template or None,
            limit=limit,
        )
    table = Table(title=f"Outbox ({len(rows)} shown)")
    for col in ("id", "status", "recipient", "template", "attempts", "last error", "next try"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            r["recipient"],
            r["template"],
            str(r["attempts"]),
            r["last_error"][:120],
            _when(r["next_attempt_at"]),
        )
    console.print(table)


@app.command()
def show(notification_id: int = typer.Argument(..., metavar="ID")) -> None:
    """One message: its text (masked), key, attempts and last error."""
    from tasks.outbox import read_notification

    with session_scope(get_settings().database_url) as session:
        try:
            n = read_notification(session=session, notification_id=notification_id)
        except LookupError as exc:
            fail(str(exc))
    console.print(f"#{n['id']} [bold]{n['status']}[/bold] → {n['recipient']} ({n['template']})")
    console.print(f"key {n['key']} (sent as {n['delivery_key']})", highlight=False)
    console.print(
        f"attempts {n['attempts']}, resends {n['resends']}, created {_when(n['created_at'])}, "
        f"next try {_when(n['next_attempt_at'])}, sent {_when(n['sent_at']) or '-'}",
        highlight=False,
    )
    if n["last_error"]:
        console.print(f"last error: {n['last_error']}", highlight=False, markup=False)
    console.print(f"\n{n['title']}\n\n{n['body']}", highlight=False, markup=False)


@app.command()
def retry(
    ids: list[int] = typer.Argument(None, metavar="ID...", help="Messages to re-queue"),
    dead: bool = typer.Option(False, "--dead", help="Re-queue every dead message"),
    user: str = typer.Option(..., "--as", help="Your username (IT or the campaign manager)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Re-queue dead (or waiting) messages to be sent now, attempts reset. Never a sent one."""
    from tasks.outbox import OutboxRefused, retry_notifications

    if bool(ids) == dead:
        fail("name message IDs or give --dead (not both)")
    with session_scope(get_settings().database_url) as session:
        try:
            count = retry_notifications(
                session=session, actor=user, now=parse_now(now), ids=ids or None, dead=dead
            )
        except OutboxRefused as exc:
            console.print(f"[red]refused:[/red] {exc}")
            raise typer.Exit(code=1) from None
    console.print(f"re-queued {count} message(s); the next delivery run sends them")
