"""`clubflow decide` and `clubflow inbox`: answer a waiting gate, see what waits on you."""

from __future__ import annotations

from datetime import date

import typer

from clubflow.cli_common import NOW_HELP, console, parse_now

app = typer.Typer(no_args_is_help=True)

OUTCOME_HELP = "approve | revise | reject | feasible | not-feasible"


@app.command()
def decide(
    subject: str = typer.Argument(..., help="What is decided: campaign:CODE, activity:CODE, CODE"),
    gate: str = typer.Argument(..., help="The gate: plan_review, signoff, feasibility, ..."),
    outcome: str = typer.Argument(..., help=OUTCOME_HELP),
    user: str = typer.Option(..., "--as", help="Your username; checked against the gate"),
    comment: str = typer.Option("", "--comment", "-m", help="Why (required to revise/reject)"),
    wait: float = typer.Option(60.0, help="Seconds to wait for the run to be suspended here"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Decide a gate: resumes the suspended run with your typed decision."""
    from domain.gates import OutcomeError
    from tasks.gates.decisions import DecisionRefused, GateRunError
    from tasks.gates.decisions import decide as give_decision

    try:
        done = give_decision(
            subject,
            gate,
            decider=user,
            outcome=outcome,
            comment=comment,
            now=parse_now(now),
            wait_seconds=wait,
        )
    except DecisionRefused as exc:
        console.print(f"[red]refused:[/red] {exc} (recorded; the gate still waits)")
        raise typer.Exit(code=1) from None
    except (LookupError, OutcomeError, GateRunError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None
    console.print(
        f"{done.gate.title} (round {done.gate.round}) of {subject}: "
        f"{done.run_input['outcome']} by {user}; the run resumes"
    )


@app.command()
def inbox(
    user: str = typer.Option(..., "--as", help="Whose inbox"),
    now: str = typer.Option("", help=NOW_HELP),
    today: str = typer.Option("", help="Business date to judge overdue (default: --now's date)"),
) -> None:
    """Everything waiting on you (gates to decide, claims, leads...), overdue first."""
    from rich.table import Table

    from domain.calendar import business_date
    from tasks.gates.decisions import inbox as read_inbox

    try:
        day = date.fromisoformat(today) if today else business_date(parse_now(now))
    except ValueError:
        console.print(f"[red]error:[/red] --today {today!r}: expected a date YYYY-MM-DD")
        raise typer.Exit(code=2) from None
    try:
        items = read_inbox(user, today=day)
    except LookupError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None
    table = Table(title=f"Waiting on {user} ({len(items)})")
    for col in ("due", "what", "subject", "", "how"):
        table.add_column(col)
    for item in items:
        table.add_row(
            item.due_on.isoformat() if item.due_on else "",
            item.title,
            item.subject,
            "[red]overdue[/red]" if item.overdue else "",
            item.command,
        )
    console.print(table)
