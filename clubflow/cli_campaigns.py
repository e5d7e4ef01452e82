"""`clubflow campaign ...` (start, reschedule, revise, amend, kpi, show), and the gate
commands `clubflow decide` / `clubflow inbox` (clubflow/cli_gates.py) at the top level."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from clubflow import cli_gates
from clubflow.cli_common import NOW_HELP, console, fail, parse_now

campaign = typer.Typer(
    help="Brand campaigns: the 45-day preparation pipeline.", no_args_is_help=True
)

# What clubflow/cli.py adds: `campaign ...` plus `decide` and `inbox` at the top level.
app = typer.Typer()
app.add_typer(campaign, name="campaign")
app.add_typer(cli_gates.app)


@campaign.command("start")
def start(
    file: Path = typer.Argument(..., exists=True, help="The plan, JSON or YAML"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Start the pipeline for a plan (refused, naming the field, if the plan is not valid)."""
    from pydantic import ValidationError

    from clubflow.campaigns import Refused, read_document, start_campaign
    from domain.campaigns import CampaignPlan, PlanError

    try:
        plan = CampaignPlan.model_validate(read_document(file))
        run = start_campaign(plan, now=parse_now(now) if now else None)
    except ValidationError as exc:
        fail(
            f"{file}: "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    except (PlanError, ValueError, Refused) as exc:
        fail(str(exc))
    console.print(f"started {run.name!r} ({run.id}); it waits at plan review")


@campaign.command("reschedule")
def reschedule(
    code: str,
    new_launch: str = typer.Argument(..., metavar="NEW_L", help="The new launch date YYYY-MM-DD"),
    rush_reason: str = typer.Option("", help="Needed if the new L is inside the lead time"),
    user: str = typer.Option(..., "--as", help="Your username (the campaign manager)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Move the launch date L: milestones are derived again and everyone affected is told."""
    from clubflow.campaigns import Refused, reschedule_campaign
    from domain.campaigns import PlanError

    try:
        launch = date.fromisoformat(new_launch)
    except ValueError:
        fail(f"NEW_L {new_launch!r} is not a date YYYY-MM-DD")
    try:
        view = reschedule_campaign(
            code, launch, by=user, now=parse_now(now), rush_reason=rush_reason or None
        )
    except (PlanError, LookupError, ValueError, Refused) as exc:
        fail(str(exc))
    console.print(f"{view.name}: L = {view.launch_date}, end {view.end_date}")
    _show_timeline(view)


@campaign.command("revise")
def revise(
    code: str,
    file: Path = typer.Argument(..., exists=True, help="summary, policy, budget, kpis, note"),
    user: str = typer.Option(..., "--as", help="Your username (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Hand in the revised plan the review asked for."""
    from clubflow.campaigns import read_document, revise_plan
    from tasks.gates.decisions import DecisionRefused, GateRunError

    try:
        revise_plan(code, read_document(file), by=user, now=parse_now(now))
    except (DecisionRefused, LookupError, ValueError, GateRunError) as exc:
        fail(str(exc))
    console.print(f"{code}: revised plan handed in; it goes back to plan review")


@campaign.command("amend")
def amend(
    code: str,
    file: Path = typer.Argument(..., exists=True, help="Any of summary, policy, budget, kpis"),
    user: str = typer.Option(..., "--as", help="Your username"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Change the plan outside the review loop; a sign-off of the old plan becomes void."""
    from clubflow.campaigns import Refused, amend_campaign, read_document
    from domain.campaigns import PlanError

    try:
        view, voided = amend_campaign(code, read_document(file), by=user, now=parse_now(now))
    except (PlanError, LookupError, ValueError, Refused) as exc:
        fail(str(exc))
    console.print(
        f"{code}: plan v{view.plan_version}"
        + (f"; {voided} gate(s) void, sign-off opens again" if voided else "")
    )


@campaign.command("kpi")
def kpi(
    code: str,
    file: Path = typer.Argument(..., exists=True, help="CSV with columns kpi,actual"),
    user: str = typer.Option(..., "--as", help="Your username (agency)"),
    spend: float = typer.Option(None, help="Total spend (or a spend_total row in the CSV)"),
    competitors: str = typer.Option("", help="Competitors' moves"),
    next_steps: str = typer.Option("", help="Next steps"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Hand in the actual KPI figures; the post-campaign report is rendered."""
    from clubflow.campaigns import parse_kpi_csv, submit_kpis
    from tasks.gates.decisions import DecisionRefused, GateRunError

    try:
        actuals, csv_spend = parse_kpi_csv(file.read_bytes())
        total = spend if spend is not None else csv_spend
        if total is None:
            raise ValueError("give the total spend: --spend or a spend_total row")
        submit_kpis(
            code,
            actuals,
            by=user,
            spend_total=total,
            competitors=competitors,
            next_steps=next_steps,
            now=parse_now(now),
        )
    except DecisionRefused as exc:
        fail(str(exc))
    except (LookupError, ValueError, GateRunError) as exc:
        fail(f"{file}: {exc}")
    console.print(f"{code}: {len(actuals)} KPI figures handed in; the report follows")


@campaign.command("slots")
def slots(
    code: str,
    file: Path = typer.Argument(
        ..., exists=True, help="CSV: name,kind(paid/free),key_date,applied,granted,granted_qty,cost"
    ),
    user: str = typer.Option(..., "--as", help="Your username (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Record the platform resource slots applied for and what was granted (the slots gate)."""
    from clubflow.campaigns import submit_slots
    from tasks.campaigns.live import parse_slots_csv
    from tasks.gates.decisions import DecisionRefused, GateRunError

    moment = parse_now(now)
    lines, errors = parse_slots_csv(file.read_bytes())
    if errors:
        fail(f"{file}: {errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    try:
        submit_slots(code, lines, by=user, now=moment)
    except (DecisionRefused, LookupError, ValueError, GateRunError) as exc:
        fail(str(exc))
    granted = sum(1 for line in lines if line["granted"])
    console.print(f"{code}: {len(lines)} slots recorded, {granted} granted")


@campaign.command("attendance")
def attendance(
    code: str,
    dealer: list[str] = typer.Option(..., "--dealer", help="Dealer code (repeat for several)"),
    absent: bool = typer.Option(False, "--absent", help="Record them as absent"),
    user: str = typer.Option(..., "--as", help="Your username (campaign manager)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Record which dealers attended the campaign's training."""
    from clubflow.campaigns import Refused, record_training_attendance

    try:
        done = record_training_attendance(
            code, dealer, attended=not absent, by=user, now=parse_now(now)
        )
    except (LookupError, ValueError, Refused) as exc:
        fail(str(exc))
    console.print(f"{code}: {len(done)} dealer(s) {'absent' if absent else 'attended'}")


@campaign.command("import-kpis")
def import_kpis(
    file: Path = typer.Argument(
        ..., exists=True, help="CSV: campaign,kpi,date,value[,period] (value: to date since L)"
    ),
    user: str = typer.Option(..., "--as", help="Your username (agency)"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Store the agency's live KPI snapshots (once per campaign, KPI and day); bad rows are
    named by line and field, the good rows beside them are kept."""
    from clubflow.campaigns import Refused, import_kpi_snapshots

    try:
        result = import_kpi_snapshots(
            file.read_bytes(), source=f"csv:{file.name}", by=user, now=parse_now(now)
        )
    except Refused as exc:
        fail(str(exc))
    console.print(f"{file.name}: {result.stored} snapshots stored, {result.already} already there")
    for error in result.errors:
        console.print(f"error: {file.name}: {error}", soft_wrap=True)
    if result.errors:
        raise typer.Exit(code=2)


@campaign.command("show")
def show(code: str) -> None:
    """The campaign's timeline and status."""
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.campaigns.store import load_campaign

    try:
        with session_scope(get_settings().database_url) as session:
            view = load_campaign(session=session, code=code)
    except LookupError as exc:
        fail(str(exc))
    console.print(f"{view.name} ({view.code}) · {view.status} · plan v{view.plan_version}")
    if view.rush:
        console.print(f"[yellow]RUSH:[/yellow] {view.rush_reason}")
    _show_timeline(view)


def _show_timeline(view) -> None:
    from rich.table import Table

    table = Table(title=f"{view.name}: timeline")
    for col in ("step", "from", "due", "status"):
        table.add_column(col)
    for m in view.milestones:
        table.add_row(
            m.title, m.starts_on.isoformat() if m.starts_on else "", m.due_on.isoformat(), m.status
        )
    console.print(table)
