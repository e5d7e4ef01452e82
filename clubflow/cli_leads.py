"""`clubflow leads ...`: import a file, record an outcome, accept a hand-off, reassign leads.

Phones are shown masked; the dealer's own channel is the only place a lead's number goes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.privacy import mask_phone

app = typer.Typer(help="Lead callbacks: intake, outcomes, dealer hand-off.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Lead CSV (UTF-8/GBK)"),
    source: str = typer.Option("csv", help="Source name recorded on the leads"),
    now: str | None = typer.Option(None, help="Business time, e.g. 2027-03-01T10:00"),
    column: list[str] = typer.Option(
        [], "--map", help="HEADER=COLUMN for a header the known aliases miss, e.g. 客户手机=phone"
    ),
) -> None:
    """Import a lead file now: dedupe, assign, plan the calls, send the agents their lists.
    Rows whose city has no dealer yet are kept pending and come in on a later run."""
    from domain.leads_csv import LEAD_COLUMNS, REQUIRED_LEAD_COLUMNS
    from domain.tabular import TableError, check_header, decode, parse_column_map
    from flows.leads.intake import leads_intake
    from tasks.leads.intake import saved_column_map

    # The file is refused before any run starts: one line, no Failed run.
    try:
        column_map = parse_column_map(column, LEAD_COLUMNS)
        saved = saved_column_map(get_settings().leads_inbox_dir, source)
        head = file.read_bytes().split(b"\n", 1)[0] + b"\n"
        check_header(decode(head), LEAD_COLUMNS, REQUIRED_LEAD_COLUMNS, {**saved, **column_map})
    except TableError as exc:
        fail(f"{file.name}: {exc}")
    result = leads_intake(
        files=[str(file)],
        source=source,
        pull_source=False,
        now=parse_now(now),
        column_map=column_map or None,
    )
    table = Table(title=f"{file.name}")
    table.add_column("")
    table.add_column("count", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    console.print(table)
    _print_rejects()
    if result.get("pending"):
        console.print(
            f"{result['pending']} row(s) pending: their city has no dealer yet; every intake "
            "run tries them again"
        )


@app.command("columns")
def columns(
    source: str = typer.Argument(..., help="The source, as named by --source or the inbox file"),
    items: list[str] = typer.Argument(..., help="HEADER=COLUMN, e.g. 客户手机=phone 地区=city"),
) -> None:
    """Save a column mapping for a source: its files import with it (inbox runs too)."""
    from domain.leads_csv import LEAD_COLUMNS
    from domain.tabular import TableError, parse_column_map
    from tasks.leads.intake import save_column_map

    try:
        mapping = parse_column_map(items, LEAD_COLUMNS)
    except TableError as exc:
        fail(str(exc))
    path = save_column_map(get_settings().leads_inbox_dir, source, mapping)
    shown = ", ".join(f"{h}={c}" for h, c in mapping.items())
    console.print(f"{source}: columns {shown} saved ({path})")


def _print_rejects() -> None:
    from sqlalchemy import select

    from domain.models import LeadImport
    from domain.models_leads import LeadReject
    from domain.privacy import mask_text

    with session_scope(get_settings().database_url) as session:
        last = session.execute(
            select(LeadImport.id).order_by(LeadImport.id.desc()).limit(1)
        ).scalar_one_or_none()
        rejects = list(
            session.execute(
                select(LeadReject.line_no, LeadReject.reason, LeadReject.pending)
                .where(LeadReject.import_id == last)
                .order_by(LeadReject.line_no)
                .limit(20)
            ).all()
        )
    if rejects:
        table = Table(title="rows not imported (first 20)")
        table.add_column("line", justify="right")
        table.add_column("")
        table.add_column("reason")
        for line, reason, pending in rejects:
            table.add_row(str(line), "pending" if pending else "rejected", mask_text(reason))
        console.print(table)


@app.command("add")
def add(
    phone: str = typer.Option(..., help="The customer's phone"),
    dealer: str = typer.Option(..., "--dealer", help="Code of the dealer entering the lead"),
    name: str = typer.Option("", help="Customer name"),
    model: str = typer.Option("", help="Model of interest"),
    city: str | None = typer.Option(None, help="City (default: the dealer's)"),
    now: str | None = typer.Option(None, help="When the lead came in. " + NOW_HELP),
) -> None:
    """A dealer enters a lead (walk-in, phone call); it joins the day's callbacks."""
    from tasks.leads.intake import enter_dealer_lead

    settings = get_settings()
    moment = parse_now(now)  # the lead's arrival time defaults to it
    record = {"phone": phone, "name": name, "model": model}
    if city:
        record["city"] = city
    try:
        with session_scope(settings.database_url) as session:
            summary = enter_dealer_lead(
                session=session,
                dealer_code=dealer,
                record=record,
                now=moment,
                settings=settings,
            )
    except ValueError as exc:
        fail(str(exc).removeprefix("line 1: "))
    if summary.already_imported:
        console.print(f"{mask_phone(phone)}: already entered")
    elif summary.merged:
        console.print(f"{mask_phone(phone)}: merged into the open lead of this number")
    else:
        console.print(f"{mask_phone(phone)}: new lead from dealer {dealer}")


@app.command("outcome")
def outcome(
    lead_id: int = typer.Argument(...),
    call_no: int = typer.Argument(..., min=1),
    code: str = typer.Argument(..., help="关机 / powered_off / 有意购车 / interested ..."),
    agent: str = typer.Option("", "--agent", help="Username of the agent who called"),
    at: str | None = typer.Option(None, help="When the call was made (default: --now)"),
    appointment: str | None = typer.Option(None, help="Requested time for 预约时间"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record one call's outcome; an interested lead goes to its dealer at once."""
    from domain.leads_csv import OutcomeRow
    from tasks.leads.common import optional_channels
    from tasks.leads.handoff import hand_off_valid_leads
    from tasks.leads.outcomes import apply_outcome_rows

    settings = get_settings()
    now = parse_now(now)
    row = OutcomeRow(
        1,
        lead_id,
        call_no,
        code,
        parse_now(at) if at else now,
        agent,
        parse_now(appointment) if appointment else None,
    )
    with session_scope(settings.database_url) as session:
        summary, rejects = apply_outcome_rows(session=session, rows=[row], now=now, source="cli")
        if rejects:
            fail(rejects[0].reason.removeprefix("line 1: "))
        handed = hand_off_valid_leads(
            session=session, now=now, settings=settings, channels=optional_channels()
        )
    if summary.duplicates:
        console.print(f"lead {lead_id} call {call_no}: already recorded")
        return
    console.print(f"lead {lead_id} call {call_no}: recorded {code}")
    for lead, phone, to in handed.rows:
        console.print(f"lead {lead} ({phone}) handed to {to}")


@app.command("accept")
def accept(
    lead_id: int = typer.Argument(...),
    dealer: str = typer.Option(..., "--dealer", help="Code of the accepting dealer"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """A dealer accepts a handed-off lead (within 1 working day)."""
    from tasks.leads.common import LeadsError
    from tasks.leads.handoff import accept_handoff

    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            lead = accept_handoff(session=session, lead_id=lead_id, dealer_code=dealer, now=moment)
            phone = mask_phone(lead.phone)
    except LeadsError as exc:
        _refused("leads.accept", f"lead:{lead_id}", f"dealer:{dealer}", exc, moment)
    console.print(f"lead {lead_id} ({phone}) accepted by dealer {dealer}")


@app.command("reassign")
def reassign(
    lead_ids: list[int] = typer.Argument(..., help="Lead ids"),
    to: str = typer.Option(..., "--to", help="Username of the receiving agent"),
    as_user: str = typer.Option(..., "--as", help="The call supervisor's username"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The call supervisor moves open leads to another agent."""
    from tasks.leads.assignment import reassign_leads
    from tasks.leads.common import LeadsError

    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            moved = reassign_leads(
                session=session, lead_ids=lead_ids, to_agent=to, by=as_user, now=moment
            )
    except LeadsError as exc:
        subject = "lead:" + ",".join(map(str, lead_ids[:20]))
        _refused("leads.reassign", subject, as_user, exc, moment)
    console.print(f"{moved} lead(s) moved to {to}; they go on {to}'s next call list")


def _refused(action: str, subject: str, actor: str, exc: Exception, now: datetime) -> None:
    """A refused change is recorded (its own transaction: the change itself rolled back)."""
    from tasks.audit import record_refusal

    with session_scope(get_settings().database_url) as session:
        record_refusal(
            session=session,
            action=action,
            subject=subject[:128],
            actor=actor,
            reason=str(exc),
            now=now,
        )
    fail(str(exc))


from clubflow.cli_roster import app as roster_app  # noqa: E402

app.add_typer(roster_app, name="roster")
