"""`clubflow members callbacks | callback-outcome | consent ...`: lost members' call-backs and
members' contact consent. Its commands join `clubflow members`.

Decisions bind to `--as USER` (the agent or supervisor, or the staff member recording a
member's consent); refusals are recorded. Phones are always shown masked.
"""

from __future__ import annotations

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.cli_members import app
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings


@app.command("callbacks")
def list_callbacks(
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's call-backs"),
    all_: bool = typer.Option(False, "--all", help="Closed call-backs too"),
) -> None:
    """Lost members' call-backs: who calls whom, which call is next, the churn reason."""
    from rich.table import Table

    from tasks.retention.callbacks import agent_callbacks

    with session_scope(get_settings().database_url) as session:
        rows = agent_callbacks(session=session, agent=agent, open_only=not all_)
    table = Table("member", "name", "phone", "club", "agent", "next call", "due", "status")
    for r in rows:
        table.add_row(
            r["member_no"],
            r["name"],
            r["phone"],
            r["club"],
            r["agent"] or "—",
            str(r["next_call_no"]),
            r["next_call_due"].isoformat() if r["next_call_due"] else "—",
            r["resolution"] or r["status"],
        )
    console.print(table)
    console.print(f"{len(rows)} call-backs")


@app.command("callback-outcome")
def callback_outcome(
    member_no: str = typer.Argument(..., help="Member number, e.g. M000061"),
    call: int = typer.Option(..., "--call", help="The call number (1, 2, 3...)"),
    outcome: str = typer.Option(..., "--outcome", help="Outcome code or label, e.g. 关机"),
    reason: str | None = typer.Option(
        None, "--reason", help="Churn reason when connected: 价格 服务 距离 换车 搬迁 活动少 其他"
    ),
    appointment: str | None = typer.Option(
        None, "--appointment", help="Requested time for 预约时间, e.g. 2026-12-03T19:00"
    ),
    note: str = typer.Option("", "--note", help="What the member said"),
    as_user: str = typer.Option(..., "--as", "--actor", help="The agent's username"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record one call of a member's call-back."""
    from domain.leads_outcomes import RESOLUTION_LABELS, OutcomeRejected
    from tasks.audit import Refused
    from tasks.retention.callbacks import record_callback_outcome

    moment = parse_now(now)
    appointment_at = None
    if appointment:
        from domain.instants import parse_instant

        try:
            appointment_at = parse_instant(appointment)
        except ValueError:
            fail(f"--appointment {appointment!r}: not a time (YYYY-MM-DDTHH:MM)")
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            callback = record_callback_outcome(
                session=session,
                member_no=member_no,
                call_no=call,
                outcome=outcome,
                churn_reason=reason,
                appointment_at=appointment_at,
                note=note,
                actor=as_user,
                now=moment,
                settings=settings,
            )
    except (OutcomeRejected, LookupError) as exc:
        fail(f"{member_no} call {call}: {exc.args[0] if exc.args else exc}")
    except Refused as exc:
        fail(f"refused: {exc}")
    label = RESOLUTION_LABELS.get(callback.resolution, callback.resolution)
    due = callback.next_call_due.isoformat() if callback.next_call_due else "—"
    if callback.status == "open":
        console.print(
            f"{member_no}: call {call} recorded; {label}, call {callback.next_call_no} due {due}"
        )
    else:
        console.print(f"{member_no}: call {call} recorded; closed {label}")


@app.command("consent")
def consent(
    member_no: str = typer.Argument(..., help="Member number, e.g. M000061"),
    channel: str | None = typer.Option(None, "--channel", help="sms or phone"),
    purpose: str | None = typer.Option(None, "--purpose", help="service or marketing"),
    allow: bool | None = typer.Option(None, "--allow/--deny", help="Consent given or withdrawn"),
    as_user: str | None = typer.Option(None, "--as", "--actor", help="Who records the change"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Show a member's consent; with --channel, --purpose and --allow/--deny, change it."""
    from rich.table import Table

    from domain.consent import parse_consent_pair
    from tasks.audit import Refused
    from tasks.retention.consent import consent_table, set_consent

    changing = (channel, purpose, allow) != (None, None, None)
    moment = parse_now(now)
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            if changing:
                if channel is None or purpose is None or allow is None:
                    fail("a change needs --channel, --purpose and --allow or --deny")
                if not as_user:
                    fail("a change needs --as USER (who records it)")
                try:
                    ch, pu = parse_consent_pair(channel, purpose)
                except ValueError as exc:
                    fail(str(exc))
                set_consent(
                    session=session,
                    member_no=member_no,
                    channel=ch,
                    purpose=pu,
                    allowed=allow,
                    actor=as_user,
                    now=moment,
                )
            rows = consent_table(session=session, member_no=member_no)
    except LookupError as exc:
        fail(str(exc.args[0]))
    except Refused as exc:
        fail(f"refused: {exc}")
    table = Table("channel", "purpose", "allowed", "changed", "by")
    for r in rows:
        table.add_row(
            r["channel"],
            r["purpose"],
            "yes" if r["allowed"] else "no",
            r["changed_at"].isoformat(timespec="minutes") if r["changed_at"] else "—",
            r["changed_by"] or "(default)",
        )
    console.print(table)
