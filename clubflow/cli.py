"""`clubflow`: start the system, seed the demo world, see what is waiting.

Area command groups (campaign, activity, leads, ...) register at the bottom, one line each.
"""

from __future__ import annotations

from pathlib import Path

import typer

from clubflow.cli_common import (
    DEBUG,
    NOW_HELP,
    GuardedGroup,
    console,
    fail,
    parse_now,
    require_migrated,
)
from clubflow.core.db import DatabaseError, migrate, safe_url, session_scope
from clubflow.core.settings import get_settings
from domain.calendar import business_date

app = typer.Typer(
    help="clubflow: owner clubs, campaigns and leads on Prefect.",
    no_args_is_help=True,
    cls=GuardedGroup,
)

# Commands that choose their Prefect API themselves instead of finding the running stack.
_OWN_API = {"up", "deploy", "worker"}
# Commands that migrate the database themselves (or touch none).
NO_SCHEMA_CHECK = {"migrate", "demo", "up", "deploy", "worker"}


@app.callback()
def guard(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error"),
) -> None:
    """clubflow: owner clubs, campaigns and leads on Prefect."""
    DEBUG["on"] = debug
    # A command in any shell of the project folder talks to the stack `clubflow up` started
    # (its stack.json), never to a temporary server of its own.
    if ctx.invoked_subcommand not in _OWN_API:
        from clubflow.stack import use_running_stack

        use_running_stack()
    if ctx.invoked_subcommand in NO_SCHEMA_CHECK or ctx.meta.get("asks_help"):
        return
    # Every other command needs the newest schema: one answer instead of "no such table".
    require_migrated(get_settings().database_url)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the project database to the newest schema."""
    settings = get_settings()
    try:
        migrate(settings.database_url)
    except DatabaseError as exc:
        fail(str(exc))
    console.print(f"database {safe_url(settings.database_url)} is up to date")


@app.command()
def demo(
    clubs_per_region: int = typer.Option(3, min=1),
    members: int = typer.Option(200, min=0),
    leads: int = typer.Option(500, min=0),
    now: str = typer.Option("", help="Members joined, leads arrived before it. " + NOW_HELP),
) -> None:
    """Seed the demo world (7 regions, clubs and dealers, people for every role, members, leads)."""
    from clubflow.world import WorldSize, seed_demo_world

    settings = get_settings()
    try:
        migrate(settings.database_url)
    except DatabaseError as exc:
        fail(str(exc))
    with session_scope(settings.database_url) as session:
        counts = seed_demo_world(
            session=session,
            size=WorldSize(clubs_per_region=clubs_per_region, members=members, leads=leads),
            now=parse_now(now),
        )
    added = ", ".join(f"{v} {k}" for k, v in counts.items())
    console.print(f"demo world ready in {safe_url(settings.database_url)} (added: {added})")


@app.command()
def status(now: str = typer.Option("", help=NOW_HELP)) -> None:
    """What is waiting: open gates (overdue first), queued notifications, open leads."""
    from rich.table import Table
    from sqlalchemy import func, select

    from domain.models import Gate, GateStatus, Lead, LeadStatus
    from tasks.outbox import outbox_counts

    settings = get_settings()
    today = business_date(parse_now(now))
    with session_scope(settings.database_url) as session:
        gates = (
            session.execute(
                select(Gate).where(Gate.status == GateStatus.open).order_by(Gate.due_on).limit(50)
            )
            .scalars()
            .all()
        )
        counts = outbox_counts(session=session)
        open_leads = session.execute(
            select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.open)
        ).scalar_one()

    table = Table(title=f"Open gates ({len(gates)})")
    for col in ("due", "gate", "subject", "owner", ""):
        table.add_column(col)
    for gate in gates:
        late = "[red]overdue[/red]" if gate.due_on < today else ""
        owner = gate.owner_role + (f":{gate.owner_region}" if gate.owner_region else "")
        table.add_row(
            gate.due_on.isoformat(),
            gate.title,
            f"{gate.subject_type} #{gate.subject_id}",
            owner,
            late,
        )
    console.print(table)

    outbox = Table(title="Notifications")
    outbox.add_column("status")
    outbox.add_column("count", justify="right")
    for key in ("pending", "sending", "sent", "dead"):
        outbox.add_row(key, str(counts.get(key, 0)))
    console.print(outbox)
    console.print(f"open leads: {open_leads}")


@app.command()
def up(
    port: int = typer.Option(4200, help="Prefect server port on 127.0.0.1"),
    seed: bool = typer.Option(True, help="Seed the demo world (development only)"),
    home: Path = typer.Option(
        Path(".clubflow"), help="Data folder: Prefect's database, logs, stack.json, the inbox"
    ),
    public: bool = typer.Option(
        False,
        "--public",
        help="Listen on every interface, the Prefect API behind an auth string (<home>/api-auth)",
    ),
) -> None:
    """Start everything: Prefect server, database, blocks, demo world, every deployment and
    the portal.

    A part that dies is restarted; Ctrl-C (or SIGTERM) stops everything."""
    from clubflow.stack import run_stack

    raise typer.Exit(run_stack(port=port, seed=seed, console=console, home=home, public=public))


@app.command()
def deploy(
    api_url: str = typer.Option(
        ..., envvar="PREFECT_API_URL", help="The Prefect server's API, e.g. http://host:4200/api"
    ),
    database_url: str = typer.Option(
        ..., envvar="CLUBFLOW_DATABASE_URL", help="The project database (PostgreSQL)"
    ),
    channels: Path | None = typer.Option(
        None, help="YAML/JSON of the channels block (people, dealers, roles, member_sms_url)"
    ),
    demo: bool = typer.Option(False, help="Seed the demo world (development only)"),
    demo_inbox: str = typer.Option(
        "", help="With --demo: route every notification to this json:// inbox"
    ),
) -> None:
    """Set up a multi-machine installation: schema, block types, channels block, the `clubflow`
    work pool and every deployment of prefect.yaml. Safe to run again."""
    from clubflow.deploy import DeployError, run_deploy

    try:
        run_deploy(
            api_url=api_url,
            database_url=database_url,
            channels_file=channels,
            demo=demo,
            demo_inbox=demo_inbox,
            console=console,
        )
    except DeployError as exc:
        fail(str(exc))


@app.command()
def worker(
    api_url: str = typer.Option(..., envvar="PREFECT_API_URL", help="The Prefect server's API"),
    name: str = typer.Option("", help="Worker name (default: Prefect's)"),
    limit: int = typer.Option(0, min=0, help="At most this many runs at once (0: no limit)"),
    warm: bool = typer.Option(
        True, help="Fork runs from a process that has imported the flows (--no-warm: cold)"
    ),
) -> None:
    """Start a worker of the `clubflow` pool on this machine (needs CLUBFLOW_DATABASE_URL)."""
    from clubflow.deploy import DeployError
    from clubflow.worker import run_worker

    try:
        run_worker(api_url=api_url, name=name, limit=limit, warm=warm, console=console)
    except DeployError as exc:
        fail(str(exc))


@app.command()
def deliver(
    loop: bool = typer.Option(
        False, "--loop", help="Keep delivering (what `clubflow up` runs) until Ctrl-C"
    ),
    now: str = typer.Option("", help="Send what is due by this time. " + NOW_HELP),
) -> None:
    """Deliver the outbox now, without a flow run; --loop keeps delivering (a worker machine
    runs it beside `clubflow worker`; docs/outbox.md). The loop reads the clock at each pass."""
    from clubflow.delivery import main as loop_main
    from tasks.outbox import deliver_all_due, load_channels

    if loop:
        if now:
            fail("--now is for one delivery; the loop delivers what is due by the clock")
        loop_main([])
        return
    report = deliver_all_due(now=parse_now(now), settings=get_settings(), channels=load_channels())
    console.print(
        f"{report.sent} sent, {report.retried} to retry, {report.deferred} deferred, "
        f"{report.dead} dead, {report.waiting} waiting"
    )


# -- area command groups --
from clubflow.cli_campaigns import app as campaigns_app  # noqa: E402 - campaign, decide, inbox

app.add_typer(campaigns_app)
from clubflow.cli_planning import crossing_app, plan_app, planning_app, rotation_app  # noqa: E402

app.add_typer(plan_app, name="plan")
app.add_typer(planning_app, name="planning")
app.add_typer(rotation_app, name="rotation")
app.add_typer(crossing_app, name="crossing")
import clubflow.cli_quarter  # noqa: E402, F401 - its commands join `clubflow planning`
from clubflow.cli_leads import app as leads_app  # noqa: E402

app.add_typer(leads_app, name="leads")
from clubflow.cli_members import app as members_app  # noqa: E402

app.add_typer(members_app, name="members")
import clubflow.cli_points  # noqa: E402, F401 - its commands join `clubflow members`
import clubflow.cli_retention  # noqa: E402, F401 - its commands join `clubflow members`
from clubflow.cli_tiers import privileges_app, renew_points_cmd  # noqa: E402

members_app.add_typer(privileges_app, name="privileges")
members_app.command("renew-points")(renew_points_cmd)
from clubflow.cli_activities import app as activity_app  # noqa: E402

app.add_typer(activity_app, name="activity")
from clubflow.cli_outbox import app as outbox_app  # noqa: E402

app.add_typer(outbox_app, name="outbox")
from clubflow.cli_rewards import app as rewards_app  # noqa: E402

app.add_typer(rewards_app, name="rewards")
from clubflow.cli_disputes import app as disputes_app  # noqa: E402
from clubflow.cli_disputes import incidents_app  # noqa: E402

app.add_typer(disputes_app, name="disputes")
app.add_typer(incidents_app, name="incidents")
from clubflow.cli_outlets import app as outlets_app  # noqa: E402

app.add_typer(outlets_app, name="outlets")
from clubflow.cli_clubs import app as clubs_app  # noqa: E402

app.add_typer(clubs_app, name="clubs")
from clubflow.cli_complaints import app as complaints_app  # noqa: E402

app.add_typer(complaints_app, name="complaints")
