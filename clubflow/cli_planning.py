"""`clubflow plan`, `clubflow rotation`, `clubflow crossing`: quarterly planning from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

plan_app = typer.Typer(help="Quarter plans and monthly club plans.", no_args_is_help=True)
rotation_app = typer.Typer(help="The regional rotation of crossing events.", no_args_is_help=True)
crossing_app = typer.Typer(help="Cross-region crossings: challenges.", no_args_is_help=True)


def _table(title: str, rows: list[dict]) -> Table:
    table = Table(title=title)
    for column in rows[0] if rows else ():
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


@plan_app.command("quarter")
def plan_quarter_command(
    quarter: str = typer.Argument(None, help="e.g. 2027Q2; empty: the next quarter"),
    override_host: str = typer.Option(None, "--host", help="Region that hosts instead"),
    reason: str = typer.Option(None, help="Why the host is overridden (required with --host)"),
    as_user: str = typer.Option("cli", "--as", help="Your username (recorded with the plan)"),
    ics_dir: Path = typer.Option(None, help="Where to write the ICS file (default: plans_dir)"),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """Draft a quarter now (the same deployment as the schedule); HQ confirms it with
    `clubflow planning confirm`, then it is published and the clubs are asked for plans."""
    from prefect.deployments import run_deployment

    from domain.rotation import Quarter, RotationError

    try:
        target = str(Quarter.parse(quarter)) if quarter else None
    except RotationError as exc:
        fail(str(exc))
    if override_host and not (reason or "").strip():
        fail(f"--host {override_host}: an override needs --reason")
    moment = parse_now(now)
    parameters = {
        "quarter": target,
        "override_host": override_host,
        "override_reason": reason,
        "requested_by": as_user,
        "ics_dir": str(ics_dir) if ics_dir else None,
        "now": moment.isoformat(),
    }
    try:
        run = run_deployment("plan-quarter/plan-quarter", parameters=parameters, timeout=0)
    except Exception as exc:  # noqa: BLE001 - the stack is down or not deployed: one line
        fail(f"cannot start plan-quarter: {exc} (is the stack up? `clubflow up`)")
    label = target or "the next quarter"
    console.print(
        f"plan-quarter run {run.name} started for {label}: the draft waits for HQ to confirm "
        f"(`clubflow planning confirm {target or 'QUARTER'} --as USER`)"
    )


@plan_app.command("submit")
def plan_submit_command(
    club: str = typer.Argument(..., help="Club code, e.g. C-CH001"),
    file: Path = typer.Argument(..., exists=True, help="JSON: title, activity_class, dates..."),
    as_user: str = typer.Option(..., "--as", help="The club admin submitting"),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """Submit a club's monthly plan for its slot (the month of its start date)."""
    from pydantic import ValidationError

    from domain.planning import MonthlyPlan
    from tasks.planning.submissions import SubmissionError, submit_monthly_plan

    try:
        plan = MonthlyPlan.model_validate(json.loads(file.read_text(encoding="utf-8")))
        with session_scope(get_settings().database_url) as session:
            row = submit_monthly_plan(
                session=session,
                club_code=club,
                plan=plan,
                submitted_by=as_user,
                now=parse_now(now),
            )
    except (SubmissionError, ValidationError, json.JSONDecodeError) as exc:
        fail(f"{file}: {exc}")
    console.print(f"submitted #{row.id} {row.title} ({row.starts_on}) for {club}")


@rotation_app.command("show")
def rotation_show_command(
    start: str = typer.Option(None, "--from", help="First quarter ahead (default: the next)"),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """The rotation history and the next seven hosts the rule would choose."""
    from domain.regions import region_info
    from domain.rotation import Quarter, RotationError
    from tasks.planning.plans import load_rotation_records, next_quarter, upcoming_hosts

    try:
        after = Quarter.parse(start) if start else next_quarter(parse_now(now))
    except RotationError as exc:
        fail(str(exc))
    with session_scope(get_settings().database_url) as session:
        history = load_rotation_records(session=session)
        upcoming = upcoming_hosts(session=session, after=after)
    past = Table(title=f"Rotation history ({len(history)})")
    for column in ("quarter", "host", "month", "cycle", "kind", "why", "by"):
        past.add_column(column)
    for h in history:
        kind = "override" if h.override else ("rotation" if h.on_cycle else "stand-in")
        if h.override and not h.on_cycle:
            kind = "override (extra)"
        past.add_row(
            h.quarter,
            region_info(h.region_code).name_zh,
            str(h.month),
            str(h.cycle),
            kind,
            h.reason,
            h.decided_by,
        )
    console.print(past)
    ahead = Table(title="Next seven hosts")
    for column in ("quarter", "host", "month", "crossing", "cycle", "why"):
        ahead.add_column(column)
    for choice in upcoming:
        h = choice.hosting
        info = region_info(h.region)
        ahead.add_row(
            str(h.quarter),
            info.name_zh,
            str(h.month),
            info.signature_crossing_zh,
            str(h.cycle) + ("" if h.on_cycle else " (stand-in)"),
            choice.why,
        )
    console.print(ahead)


@crossing_app.command("challenge")
def crossing_challenge_command(
    challenger: str = typer.Argument(..., metavar="FROM", help="Challenging region, e.g. jinan"),
    challenged: str = typer.Argument(..., metavar="TO", help="Challenged region, e.g. chengdu"),
    as_user: str = typer.Option(..., "--as", help="Specialist or club admin of FROM"),
    quarter: str = typer.Option(None, help="The crossing, e.g. 2027Q2 (default: the next)"),
    message: str = typer.Option("", help="挑战宣言"),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record a challenge between two regions and notify them."""
    from domain.regions import UnknownRegionError
    from domain.rotation import RotationError
    from tasks.outbox import queue_notifications
    from tasks.planning.challenges import ChallengeError, record_challenge

    settings = get_settings()
    moment = parse_now(now)
    try:
        with session_scope(settings.database_url) as session:
            result = record_challenge(
                session=session,
                challenger=challenger,
                challenged=challenged,
                challenged_by=as_user,
                now=moment,
                quarter=quarter,
                message=message,
            )
            queued = queue_notifications(
                session=session, requests=result.requests, now=moment, settings=settings
            )
    except (ChallengeError, UnknownRegionError, RotationError) as exc:
        fail(str(exc))
    state = "recorded" if result.created else "already recorded"
    console.print(
        f"challenge {challenger} → {challenged} at {result.quarter} {state}; "
        f"{queued.queued} notifications queued"
    )
