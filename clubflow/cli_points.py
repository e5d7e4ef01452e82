"""`clubflow members import-transactions` and `clubflow members points ...`: points earned by
spending (the dealer system's bills), the month's points budget and the anomaly review.

Importing is for the campaign manager or IT; the review is HQ's (campaign manager,
finance). A refusal is recorded.
"""

from __future__ import annotations

from pathlib import Path

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.cli_members import app as members_app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

points_app = typer.Typer(help="Points budget and anomaly review.", no_args_is_help=True)
members_app.add_typer(points_app, name="points")


def _refuse(action: str, subject: str, user: str, reason: str, now) -> None:
    from tasks.audit import record_refusal

    with session_scope(get_settings().database_url) as session:
        record_refusal(
            session=session, action=action, subject=subject, actor=user, reason=reason, now=now
        )
    fail(f"{subject}: refused: {reason}")


def read_transactions(file: Path) -> tuple[list, list[str]]:
    """The bills of a dealer-system CSV and its refused lines (line and field named)."""
    from domain.points_earn import TXN_COLUMNS, TXN_REQUIRED, check_txn_record
    from domain.tabular import TableError, line_error, read_table

    try:
        table = read_table(file.read_bytes(), TXN_COLUMNS, TXN_REQUIRED)
    except TableError as exc:
        fail(f"{file}: {exc}")
    rows, refused = [], [bad.reason for bad in table.bad_lines]
    for line, record in table.records:
        checked = check_txn_record(line, record)
        if isinstance(checked, tuple):
            refused.append(line_error(line, *checked))
        else:
            rows.append(checked)
    return rows, refused


@members_app.command("import-transactions")
def import_transactions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Dealer-system CSV"),
    user: str = typer.Option(..., "--as", help="The campaign manager or IT importing"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Credit the points of the dealer system's purchase, service and parts bills (txn_id,
    member_no, kind, amount_yuan, occurred_at, dealer); a bill already read adds nothing.
    Bad rows are named by line and field (exit 2); the good rows are kept."""
    from tasks.members.earn import TransactionsRefused, check_importer, credit_transactions

    moment = parse_now(now)
    rows, refused = read_transactions(file)
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            check_importer(session=session, username=user)
            report = credit_transactions(session=session, rows=rows, now=moment, settings=settings)
    except TransactionsRefused as exc:
        _refuse("members.transactions", f"import:{file.name}"[:128], user, str(exc), moment)
    console.print(
        f"{report.recorded} transactions credited ({report.points} points to "
        f"{report.members} members), {report.duplicates} already read, "
        f"{len(refused) + len(report.rejected)} rejected"
    )
    bad = refused + report.rejected
    for reason in bad:
        console.print(f"  rejected {reason}", soft_wrap=True)
    if bad:
        raise typer.Exit(2)


@points_app.command("budget")
def budget(
    month: str | None = typer.Option(None, help="A day of the month, e.g. 2026-10-01"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The month's points issued and redeemed, their value in yuan and the budget used."""
    from datetime import date

    from domain.calendar import business_date
    from tasks.members.points_budget import budget_month

    try:
        day = date.fromisoformat(month) if month else business_date(parse_now(now))
    except ValueError:
        fail(f"--month {month!r}: not a date (YYYY-MM-DD)")
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        m = budget_month(session=session, month=day, settings=settings)
    console.print(
        f"{m.month:%Y-%m}: issued {m.issued_points} points ({m.issued_yuan:.2f} yuan), "
        f"redeemed {m.redeemed_points} points ({m.redeemed_yuan:.2f} yuan), "
        f"budget {m.budget_yuan:.2f} yuan, {m.share * 100:.1f}% used",
        soft_wrap=True,
    )


@points_app.command("anomalies")
def anomalies(
    all_flags: bool = typer.Option(False, "--all", help="Reviewed flags too"),
) -> None:
    """Members whose points jumped beyond the threshold in a day (open flags)."""
    from tasks.members.points_budget import list_anomalies

    with session_scope(get_settings().database_url) as session:
        flags = list_anomalies(session=session, status=None if all_flags else "open")
    if not flags:
        console.print("no anomaly flags")
    for f in flags:
        by = f" by {f.reviewed_by}" if f.reviewed_by else ""
        console.print(
            f"#{f.id} {f.day.isoformat()} {f.member_no} {f.name} +{f.points} {f.status}{by}",
            soft_wrap=True,
        )


@points_app.command("review")
def review(
    flag_id: int = typer.Argument(..., help="The flag's number (#N in `anomalies`)"),
    outcome: str = typer.Option(..., "--outcome", help="cleared or confirmed"),
    user: str = typer.Option(..., "--as", help="The campaign manager or finance reviewing"),
    note: str = typer.Option("", "--note", "-m", help="Why"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Mark an anomaly flag reviewed: cleared (legitimate) or confirmed (to correct)."""
    from tasks.members.points_budget import ReviewRefused, review_anomaly

    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            flag = review_anomaly(
                session=session,
                flag_id=flag_id,
                outcome=outcome,
                username=user,
                note=note,
                now=moment,
            )
            status = flag.status
    except ReviewRefused as exc:
        _refuse("members.points_anomaly", f"anomaly:{flag_id}", user, str(exc), moment)
    console.print(f"anomaly #{flag_id}: {status} by {user}")
