"""`clubflow leads ...`: import a file, record an outcome, accept a hand-off, reassign leads.

Phones are shown masked; the dealer's own channel is the only place a lead's number goes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.text import Text

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.calendar import BUSINESS_TZ
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
    from rich.table import Table

    from domain.leads_csv import LEAD_COLUMNS, REQUIRED_LEAD_COLUMNS
    from domain.tabular import TableError, check_header, decode, parse_column_map
    from flows.leads.intake import leads_intake
    from tasks.leads.intake import saved_column_map

    # The file is refused before any run starts: one line, no Failed run.
    try:
        column_map = parse_column_map(column, LEAD_COLUMNS)
        saved = saved_column_map(get_settings().leads_inbox_dir, source)
        with file.open("rb") as stream:  # the header line only: the file may be huge
            head = stream.readline()
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
    from rich.table import Table
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


# ---------------------------------------------------------------- deals (docs/leads.md)


@app.command("follow-up")
def follow_up(
    lead_id: int = typer.Argument(...),
    stage: str = typer.Argument(
        ...,
        help="contacted/已联系 visit_booked/已预约到店 visited/已到店 test_drive/已试驾 "
        "order/已下订 delivered/已交车 lost/战败",
    ),
    at: str | None = typer.Option(None, help="When it happened (default: --now)"),
    reason: str | None = typer.Option(
        None, help="Lost only: 购买竞品 预算不足 暂缓购车 联系不上 其他 (or its code)"
    ),
    note: str = typer.Option("", help="A note (其他 needs one)"),
    actor: str = typer.Option(
        ..., "--actor", "--as", help="Username of the dealer's staff or HQ (or dealer:CODE)"
    ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record the next step of an accepted lead: an order converts it, lost ends it."""
    from tasks.leads.common import LeadsError
    from tasks.leads.deals import DealRefused, record_follow_up

    moment = parse_now(now)
    when = parse_now(at) if at else moment
    try:
        with session_scope(get_settings().database_url) as session:
            view = record_follow_up(
                session=session,
                lead_id=lead_id,
                stage=stage,
                at=when,
                actor=actor,
                now=moment,
                reason=reason,
                note=note,
            )
    except DealRefused as exc:
        _refused("leads.follow_up", f"lead:{lead_id}", actor, exc, moment)
    except LeadsError as exc:
        fail(str(exc))
    step = view.steps[-1]
    when = step.at.astimezone(BUSINESS_TZ)
    console.print(
        f"lead {lead_id}: {step.label} ({step.stage}) at {when:%Y-%m-%d %H:%M}"
        + (f", {step.reason}" if step.reason else "")
        + (" — converted" if step.stage == "order" else "")
    )


@app.command("import-deals")
def import_deals(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Dealer-system CSV"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Import follow-up records exported by the dealer system (id, lead_id, stage, at,
    dealer, reason, note); each record id is stored once. Good rows are kept; each refused
    row is named by line and field (exit code 2)."""
    from domain.tabular import TableError
    from tasks.leads.deals import import_deal_bytes

    moment = parse_now(now)
    try:
        with session_scope(get_settings().database_url) as session:
            summary = import_deal_bytes(file.read_bytes(), session=session, now=moment)
    except TableError as exc:
        fail(f"{file.name}: {exc}")
    console.print(
        f"{file.name}: {summary.recorded} recorded ({summary.orders} orders, {summary.lost} "
        f"lost), {summary.duplicates} already known, {len(summary.rejected)} refused"
    )
    for line in summary.rejected:
        console.print(Text.assemble(("error:", "red"), f" {file.name}: {line}"), soft_wrap=True)
    if summary.rejected:
        raise typer.Exit(code=2)


@app.command("funnel")
def funnel(
    start: str = typer.Option(..., "--from", help="First business day of the leads (YYYY-MM-DD)"),
    end: str = typer.Option(..., "--to", help="Last business day of the leads (YYYY-MM-DD)"),
    now: str | None = typer.Option(None, help="Count steps up to this time. " + NOW_HELP),
) -> None:
    """The conversion funnel of the leads that arrived from --from to --to: lead → valid →
    accepted → visited → order, by source, city, dealer and agent, with median times."""
    from datetime import date

    from rich.table import Table

    from tasks.leads.funnel import DIMENSIONS, STEPS, deal_funnel, duration

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        fail(f"--from/--to: not a date: {start!r}/{end!r} (e.g. 2026-10-01)")
    if last < first:
        fail(f"--to {last} is before --from {first}")
    with session_scope(get_settings().database_url) as session:
        result = deal_funnel(session=session, start=first, end=last, as_of=parse_now(now))
    waits = {"leads": "", **{k: duration(v) for k, v in result.median_hours.items()}}
    table = Table(title=f"funnel of the leads of {first} to {last}")
    table.add_column("step")
    table.add_column("count", justify="right")
    table.add_column("median wait", justify="right")
    for step in STEPS:
        table.add_row(step, str(getattr(result.total, step)), waits[step])
    console.print(table)
    for name in DIMENSIONS:
        by = Table(title=f"by {name}")
        by.add_column(name)
        for step in STEPS:
            by.add_column(step, justify="right")
        for row in result.by[name]:
            by.add_row(row.key, *(str(getattr(row, step)) for step in STEPS))
        console.print(by)


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


@app.command("revisits")
def revisits(
    week_of: str | None = typer.Option(
        None, "--week-of", help="A day of the week to show, e.g. 2026-12-14 (default: --now's)"
    ),
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's revisits"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The week's revisit list (leads unconverted for over two months) and each result."""
    from datetime import date

    from rich.table import Table

    from domain.calendar import business_date
    from domain.leads_revisit import week_of as monday_of
    from tasks.leads.revisit import week_revisits

    if week_of:
        try:
            day = date.fromisoformat(week_of)
        except ValueError:
            fail(f"--week-of: not a date {week_of!r} (e.g. 2026-12-14)")
    else:
        day = business_date(parse_now(now))
    week = monday_of(day)
    with session_scope(get_settings().database_url) as session:
        rows = week_revisits(session=session, week=week, agent=agent or None)
    table = Table(title=f"revisits, week of {week.isoformat()}" + (f" · {agent}" if agent else ""))
    for column in ("revisit", "lead", "name", "phone", "city", "agent", "result", "note"):
        table.add_column(column)
    for r in rows:
        result = r.result_label or ("off the list" if r.off_list else "waiting")
        if r.closed_lead:
            result += " (closed)"
        table.add_row(
            str(r.revisit_id),
            str(r.lead_id),
            r.name or "—",
            mask_phone(r.phone),
            r.city,
            r.agent or "(supervisor)",
            result,
            r.note or "",
        )
    console.print(table)
    waiting = sum(1 for r in rows if r.waiting)
    console.print(f"{len(rows)} on the list, {waiting} waiting for a result")


@app.command("revisit-result")
def revisit_result(
    revisit_id: int = typer.Argument(..., help="The revisit's id (clubflow leads revisits)"),
    result: str = typer.Argument(
        ...,
        help="仍在考虑/considering, 已在本品牌下订/ordered, 已购竞品/bought_competitor, "
        "不再购车/not_buying, 联系不上/unreachable",
    ),
    note: str = typer.Option("", "--note", help="What the customer said"),
    actor: str = typer.Option(
        ..., "--actor", help="Your username (the revisit's agent or the supervisor)"
    ),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Report a revisit call's result, once: it converts or closes the lead, or keeps it on
    next week's list."""
    from domain.leads_revisit import RevisitRejected, parse_revisit_outcome
    from tasks.leads.common import LeadsError
    from tasks.leads.revisit import record_revisit_result

    try:
        parse_revisit_outcome(result)
    except RevisitRejected as exc:
        fail(f"RESULT: {exc}")
    settings = get_settings()
    moment = parse_now(now)
    try:
        with session_scope(settings.database_url) as session:
            recorded = record_revisit_result(
                session=session,
                revisit_id=revisit_id,
                result=result,
                note=note,
                actor=actor,
                now=moment,
                settings=settings,
            )
    except LeadsError as exc:
        _refused("leads.revisit_result", f"revisit:{revisit_id}", actor, exc, moment)
    console.print(recorded.line(), soft_wrap=True)


from clubflow.cli_roster import app as roster_app  # noqa: E402

app.add_typer(roster_app, name="roster")
