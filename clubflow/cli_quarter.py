"""`clubflow planning` (the group of clubflow/cli_planning.py): confirm a draft quarter plan,
activity materials, competitor tracking."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.cli_planning import planning_app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = planning_app
materials_app = typer.Typer(help="Handbooks and operations materials.", no_args_is_help=True)
competitor_app = typer.Typer(help="Competitors' activities and the monthly report.")
app.add_typer(materials_app, name="materials")
app.add_typer(competitor_app, name="competitor", no_args_is_help=True)


def _authorize(action: str, subject: str, user: str, rule, now: datetime) -> None:
    """Refuse in one line, after the refusal is recorded and committed."""
    from tasks.audit import refusal_if_not_allowed

    with session_scope(get_settings().database_url) as session:
        reason = refusal_if_not_allowed(
            session=session, action=action, subject=subject, username=user, rule=rule, now=now
        )
    if reason is not None:
        fail(f"{subject}: {action.split('.')[-1]} refused: {reason}")


def _roles(user: str, roles: tuple[str, ...], what: str):
    from domain.permissions import role_refusal

    return lambda _s, actor: role_refusal(actor, username=user, roles=roles, action=what)


@app.command("confirm")
def confirm(
    quarter: str = typer.Argument(..., help="The drafted quarter, e.g. 2027Q2"),
    user: str = typer.Option(..., "--as", help="The campaign manager confirming"),
    host: str = typer.Option("", help="Another host region for the crossing, e.g. chengdu"),
    starts_on: str = typer.Option("", help="Move the crossing: first day (YYYY-MM-DD)"),
    ends_on: str = typer.Option("", help="Move the crossing: last day (YYYY-MM-DD)"),
    reason: str = typer.Option("", "--reason", "-m", help="Why (required with a change)"),
    wait: float = typer.Option(60.0, help="Seconds to wait for the run to be suspended"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Confirm a draft quarter plan: it is published and the clubs are asked and invited."""
    from domain.gates import OutcomeError
    from tasks.gates.decisions import DecisionRefused, GateRunError, decide
    from tasks.planning.confirm import GATE_KEY

    if (host or starts_on or ends_on) and not reason.strip():
        fail(f"quarter {quarter}: a changed host or changed dates need --reason")
    extra: dict[str, str] = {}
    if host:
        extra["host_region"] = host
    for name, value in (("crossing_starts_on", starts_on), ("crossing_ends_on", ends_on)):
        if value:
            try:
                extra[name] = date.fromisoformat(value).isoformat()
            except ValueError:
                fail(f"--{name.removeprefix('crossing_').replace('_', '-')} {value!r}: not a date")
    try:
        decide(
            f"quarter_plan:{quarter}",
            GATE_KEY,
            decider=user,
            outcome="approve",
            comment=reason,
            extra=extra or None,
            now=parse_now(now),
            wait_seconds=wait,
        )
    except DecisionRefused as exc:
        console.print(f"[red]refused:[/red] {exc} (recorded; the plan still waits)")
        raise typer.Exit(code=1) from None
    except (LookupError, OutcomeError, GateRunError) as exc:
        fail(str(exc))
    console.print(f"{quarter}: confirmed by {user}; the plan is published and the clubs asked")


# ---------------------------------------------------------------- materials


@materials_app.command("submit")
def materials_submit(
    code: str = typer.Argument(..., help="The activity, e.g. C-CH001-20270612"),
    handbook: str = typer.Option(..., help="The activity handbook: a link"),
    operations: str = typer.Option(..., help="The operations materials: a link"),
    note: str = typer.Option("", help="A note for the reviewer"),
    user: str = typer.Option(..., "--as", help="The organiser or the club's admin"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Hand in an activity's handbook and operations materials (due three weeks before)."""
    from tasks.outbox import queue_notifications
    from tasks.quarter.materials import submit_materials, submitter_refusal

    moment = parse_now(now)
    subject = f"activity:{code}"
    _authorize(
        "materials.submit",
        subject,
        user,
        lambda s, actor: submitter_refusal(session=s, code=code, actor=actor),
        moment,
    )
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            view, requests = submit_materials(
                session=session,
                code=code,
                handbook=handbook,
                operations=operations,
                note=note,
                by=user,
                now=moment,
                settings=settings,
            )
            queue_notifications(session=session, requests=requests, now=moment, settings=settings)
    except (LookupError, ValueError) as exc:
        fail(f"{subject}: {exc}")
    console.print(f"{subject}: materials submitted (due {view.due_on}); the reviewer is asked")


@materials_app.command("decide")
def materials_decide(
    code: str = typer.Argument(..., help="The activity"),
    outcome: str = typer.Argument(..., help="confirm | return"),
    user: str = typer.Option(..., "--as", help="HQ, or the region's specialist (B/C)"),
    reason: str = typer.Option("", "--reason", "-m", help="Why (required to return)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Confirm an activity's materials, or return them with a reason."""
    from tasks.outbox import queue_notifications
    from tasks.quarter.materials import decide_materials, reviewer_refusal

    moment = parse_now(now)
    subject = f"activity:{code}"
    _authorize(
        "materials.decide",
        subject,
        user,
        lambda s, actor: reviewer_refusal(session=s, code=code, actor=actor),
        moment,
    )
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            view, requests = decide_materials(
                session=session,
                code=code,
                outcome=outcome,
                reason=reason,
                by=user,
                now=moment,
                settings=settings,
            )
            queue_notifications(session=session, requests=requests, now=moment, settings=settings)
    except (LookupError, ValueError) as exc:
        fail(f"{subject}: {exc}")
    console.print(f"{subject}: materials {view.status} by {user}")


# ---------------------------------------------------------------- competitors

OPERATOR = ("agency",)


@competitor_app.command("add")
def competitor_add(
    brand: str = typer.Option(..., help="A tracked competitor brand (settings)"),
    activity_type: str = typer.Option(..., "--type", help="e.g. 冰雪试驾"),
    region: str = typer.Option(..., help="Region code, e.g. shenyang"),
    starts_on: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)"),
    ends_on: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD)"),
    features: str = typer.Option("", help="What stood out"),
    assessment: str = typer.Option("", help="Our assessment"),
    user: str = typer.Option(..., "--as", help="The operator (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Record one competitor activity (in the month it starts)."""
    from pydantic import ValidationError

    from domain.quarter import CompetitorEntry
    from tasks.quarter.competitors import CompetitorError, add_competitor_entries

    moment = parse_now(now)
    _authorize("competitor.add", "competitors", user, _roles(user, OPERATOR, "add"), moment)
    settings = get_settings()
    try:
        entry = CompetitorEntry(
            brand=brand,
            activity_type=activity_type,
            region=region,
            starts_on=starts_on,
            ends_on=ends_on,
            features=features,
            assessment=assessment,
        )
        with session_scope(settings.database_url) as session:
            added = add_competitor_entries(
                session=session, entries=[entry], by=user, now=moment, settings=settings
            )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    except CompetitorError as exc:
        fail(str(exc))
    state = "recorded" if added else "already recorded"
    console.print(f"{brand} {activity_type} {region} {starts_on}: {state}")


@competitor_app.command("submit")
def competitor_submit(
    month: str = typer.Argument(..., help="The month, e.g. 2027-05"),
    user: str = typer.Option(..., "--as", help="The operator (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Submit the month's competitor report (due on its last working day); HQ is told."""
    from domain.quarter import parse_month
    from tasks.outbox import queue_notifications
    from tasks.quarter.competitors import submit_competitor_report

    moment = parse_now(now)
    try:
        first = parse_month(month)
    except ValueError as exc:
        fail(str(exc))
    _authorize(
        "competitor.submit", f"competitors:{month}", user, _roles(user, OPERATOR, "submit"), moment
    )
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        row, requests = submit_competitor_report(
            session=session, month=first, by=user, now=moment, settings=settings
        )
        queue_notifications(session=session, requests=requests, now=moment, settings=settings)
        entries, due_on, path = row.entries, row.due_on, row.path
    console.print(f"competitor report {month}: {entries} entries (due {due_on}) → {path}")


@app.command("import-competitors")
def import_competitors(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of entries"),
    user: str = typer.Option(..., "--as", help="The operator (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Import competitor activities from a CSV (brand, activity_type, features, region,
    starts_on, ends_on, assessment); bad rows are named, good rows kept."""
    from domain.tabular import TableError
    from tasks.quarter.competitors import add_competitor_entries, parse_competitor_file

    moment = parse_now(now)
    _authorize("competitor.import", "competitors", user, _roles(user, OPERATOR, "import"), moment)
    settings = get_settings()
    try:
        parsed = parse_competitor_file(file.read_bytes(), settings=settings)
    except TableError as exc:
        fail(f"{file}: {exc}")
    with session_scope(settings.database_url) as session:
        added = add_competitor_entries(
            session=session, entries=parsed.entries, by=user, now=moment, settings=settings
        )
    console.print(
        f"{file.name}: {len(parsed.entries)} rows read, {added} new, {len(parsed.errors)} refused"
    )
    for error in parsed.errors:
        console.print(f"error: {file.name}: {error}", soft_wrap=True)
    if parsed.errors:
        raise typer.Exit(code=2)
