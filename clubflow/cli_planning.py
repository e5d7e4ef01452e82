"""`clubflow plan`, `clubflow rotation`, `clubflow crossing`: quarterly planning from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

if TYPE_CHECKING:
    from rich.table import Table

plan_app = typer.Typer(help="Quarter plans and monthly club plans.", no_args_is_help=True)
rotation_app = typer.Typer(help="The regional rotation of crossing events.", no_args_is_help=True)
crossing_app = typer.Typer(help="Cross-region crossings: challenges.", no_args_is_help=True)


def _table(title: str, rows: list[dict]) -> Table:
    from rich.table import Table

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
    from rich.table import Table

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


# -- `clubflow planning ...`: the dealers' monthly return and the clubs' content

planning_app = typer.Typer(
    help="The dealers' monthly return, the clubs' content, quarter confirmation, activity "
    "materials, competitor tracking.",
    no_args_is_help=True,
)


def _refuse(action: str, subject: str, actor: str, reason: str, moment) -> None:
    """Record the refusal in its own transaction (the change did not happen), then fail."""
    from tasks.audit import record_refusal

    with session_scope(get_settings().database_url) as session:
        record_refusal(
            session=session, action=action, subject=subject, actor=actor, reason=reason, now=moment
        )
    fail(f"{subject}: {action.split('.')[-1]} refused: {reason}")


@planning_app.command("return")
def planning_return_command(
    dealer: str = typer.Argument(..., metavar="DEALER_CODE", help="e.g. CH001"),
    month: str = typer.Option(..., help="The month the return is about, e.g. 2026-11"),
    sales: int = typer.Option(None, "--sales", help="Units sold in the month"),
    referral_sales: int = typer.Option(None, help="Of which referred by the club's members"),
    service_revenue: float = typer.Option(None, help="After-sales revenue of the month (yuan)"),
    member_service_revenue: float = typer.Option(None, help="Of which club members' (yuan)"),
    wechat_groups: int = typer.Option(None, help="The club's WeChat groups (optional)"),
    wechat_members: int = typer.Option(None, help="Members of those groups (optional)"),
    feedback: str = typer.Option("", help="Feedback on the month's activities"),
    suggestions: str = typer.Option("", help="Suggestions for the next period's plan"),
    actor: str = typer.Option(
        ..., "--as", "--actor", help="The dealer's staff (or dealer:CODE) or its club's admin"
    ),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """Answer a dealer's monthly return (as the portal's /returns does)."""
    from pydantic import ValidationError

    from domain.monthly_return import ReturnAnswer, answer_errors, parse_month
    from tasks.planning.returns import ReturnError, answer_return, return_refusal

    moment = parse_now(now)
    try:
        about = parse_month(month)
    except ValueError as exc:
        fail(f"--month: {exc}")
    given = {
        "sales_units": sales,
        "referral_sales_units": referral_sales,
        "service_revenue": service_revenue,
        "member_service_revenue": member_service_revenue,
        "wechat_groups": wechat_groups,
        "wechat_members": wechat_members,
        "feedback": feedback,
        "suggestions": suggestions,
    }
    options = {name: "--" + name.replace("_", "-") for name in given}
    options.update(sales_units="--sales", referral_sales_units="--referral-sales")
    try:
        answer = ReturnAnswer.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        fail(f"dealer {dealer} {month}: {answer_errors(exc, labels=options)}")
    subject = f"dealer:{dealer}"
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        reason = return_refusal(session=session, dealer_code=dealer, username=actor)
    if reason is not None:
        _refuse("planning.return", subject, actor, reason, moment)
    try:
        with session_scope(settings.database_url) as session:
            done = answer_return(
                session=session,
                dealer_code=dealer,
                month=about,
                answer=answer,
                by=actor,
                now=moment,
                settings=settings,
            )
    except ReturnError as exc:
        _refuse("planning.return", subject, actor, str(exc), moment)
    state = "corrected" if done.corrected else "answered"
    console.print(
        f"dealer {done.dealer_code} {done.month}: return {state}"
        + (" (after its due date)" if done.late else "")
    )


@planning_app.command("import-content")
def planning_import_content_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Content CSV"),
    actor: str = typer.Option(
        ..., "--as", "--actor", help="A club admin, the club's dealer, or the operator (agency)"
    ),
    column: list[str] = typer.Option(
        [], "--map", help="HEADER=FIELD for a header the known names miss, e.g. 链接=external_id"
    ),
    now: str = typer.Option(None, help=NOW_HELP),
) -> None:
    """Import clubs' content (club, external_id, kind, published_on, reads, count, channel,
    title). A row already stored (same club and external id) is skipped; a bad row is named
    by line and field and the good rows beside it are kept (exit code 2)."""
    from tasks.planning.returns import ReturnError, import_content, parse_content_csv

    moment = parse_now(now)
    try:
        rows, refused = parse_content_csv(file.read_bytes(), column)
    except ReturnError as exc:
        fail(f"{file}: {exc}")
    with session_scope(get_settings().database_url) as session:
        result = import_content(session=session, rows=rows, by=actor, now=moment)
    refused = sorted(refused + result.refused, key=_line_no)
    console.print(
        f"{file.name}: {result.added} added, {result.already} already stored, "
        f"{len(refused)} refused"
    )
    for reason in refused:
        console.print(f"  refused {reason}", soft_wrap=True)
    if refused:
        fail(f"{file}: {len(refused)} row(s) refused; first: {refused[0]}")


def _line_no(reason: str) -> int:
    head = reason.split(":", 1)[0].removeprefix("line ").strip()
    return int(head) if head.isdigit() else 0
