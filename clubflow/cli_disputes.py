"""`clubflow disputes ...` and `clubflow incidents ...`: disputes (纠纷) from filing to settlement
or litigation, and emergencies (突发事件) from report to close. Every command acts `--as` the
person named; a refusal is recorded and printed as one line (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(
    help="Disputes: file, acknowledge, mediate, settle, litigate.", no_args_is_help=True
)
incidents_app = typer.Typer(help="Emergencies: report, act, close.", no_args_is_help=True)
AS = typer.Option(..., "--as", "--actor", help="Your username")


def _run(step: Callable[..., Any], **kwargs) -> Any:
    """Run a store step in one transaction; a refusal or bad field is one line, exit 2."""
    from tasks.audit import Refused

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            row = step(session=session, **kwargs)
            code, status = row.code if hasattr(row, "code") else "", getattr(row, "status", "")
            return code, status
    except Refused as exc:
        fail(f"refused: {exc}")
    except (ValueError, LookupError) as exc:
        fail(str(exc))


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: not a date (YYYY-MM-DD)")


@app.command("file")
def file(
    kind: str = typer.Option(..., help="customer_dealer, customer_outlet or dealer_outlet"),
    claimant: str = typer.Option(..., help="Who complains (name, phone: stored masked)"),
    respondent: str = typer.Option(..., help="Against whom"),
    summary: str = typer.Option(..., help="What the dispute is about"),
    dealer: str = typer.Option("", help="The dealer's code, if a party"),
    outlet: str = typer.Option("", help="The outlet by code or name, if a party"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """File a dispute; it is due to be acknowledged (受理) within the set working days."""
    from tasks.disputes.cases import file_dispute

    code, status = _run(
        file_dispute,
        username=as_user,
        kind=kind,
        claimant=claimant,
        respondent=respondent,
        summary=summary,
        dealer_code=dealer or None,
        outlet=outlet,
        now=parse_now(now),
        settings=get_settings(),
    )
    console.print(f"dispute {code}: {status}")


@app.command("acknowledge")
def acknowledge(
    code: str, as_user: str = AS, now: str | None = typer.Option(None, help=NOW_HELP)
) -> None:
    """受理: HQ takes the dispute into mediation."""
    from tasks.disputes.cases import acknowledge_dispute

    code, status = _run(
        acknowledge_dispute,
        username=as_user,
        code=code,
        now=parse_now(now),
        settings=get_settings(),
    )
    console.print(f"dispute {code}: {status}")


@app.command("mediate")
def mediate(
    code: str,
    kind: str = typer.Option(..., help="meeting or proposal"),
    held_on: str = typer.Option(..., "--on", help="When (YYYY-MM-DD)"),
    what: str = typer.Option(..., help="What was discussed or proposed"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """调解: record a meeting or a proposal."""
    from tasks.disputes.cases import record_mediation

    _run(
        record_mediation,
        username=as_user,
        code=code,
        kind=kind,
        held_on=_day(held_on, "--on"),
        what=what,
        now=parse_now(now),
    )
    console.print(f"dispute {code}: {kind} recorded")


@app.command("settle")
def settle(
    code: str,
    agreement: str = typer.Option(..., help="The agreement reached"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    from tasks.disputes.cases import settle_dispute

    code, status = _run(
        settle_dispute, username=as_user, code=code, agreement=agreement, now=parse_now(now)
    )
    console.print(f"dispute {code}: {status}")


@app.command("litigate")
def litigate(
    code: str,
    court: str = typer.Option(...),
    case_number: str = typer.Option(..., "--case"),
    filed_on: str = typer.Option(..., "--filed-on", help="YYYY-MM-DD"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """诉讼: record the court case; HQ legal is told at once."""
    from tasks.disputes.cases import litigate_dispute

    code, status = _run(
        litigate_dispute,
        username=as_user,
        code=code,
        court=court,
        case_number=case_number,
        filed_on=_day(filed_on, "--filed-on"),
        now=parse_now(now),
        settings=get_settings(),
    )
    console.print(f"dispute {code}: {status}")


@incidents_app.command("report")
def report(
    kind: str = typer.Option(..., help="accident, fire, storm, power_loss or complaint_storm"),
    what: str = typer.Option(..., help="What happened"),
    activity: str = typer.Option("", help="The activity's code"),
    outlet: str = typer.Option("", help="The outlet by code or name"),
    place: str = typer.Option(""),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Report an incident: HQ and the region's specialist are told at once (any hour)."""
    from tasks.disputes.incidents import report_incident

    code, status = _run(
        report_incident,
        username=as_user,
        kind=kind,
        what=what,
        activity_code=activity or None,
        outlet=outlet,
        place=place,
        now=parse_now(now),
        settings=get_settings(),
    )
    _deliver_now()
    console.print(f"incident {code}: {status}; HQ and the region told")


def _deliver_now() -> None:
    """Send the urgent messages at once (as the portal's sign-in code); should the channels be
    unreachable now, the delivery loop sends them (urgent: quiet hours do not apply)."""
    from datetime import UTC, datetime

    from tasks.outbox import deliver_due, load_channels

    settings = get_settings()
    try:
        deliver_due(
            url=settings.database_url,
            channels=load_channels(),
            now=datetime.now(UTC),
            settings=settings,
        )
    except Exception as exc:  # noqa: BLE001 - the outbox keeps the rows; delivery retries
        console.print(f"delivery deferred to the delivery run: {type(exc).__name__}")


@incidents_app.command("act")
def act(
    code: str,
    action: str = typer.Option(...),
    responsible: str = typer.Option(..., help="The responsible person's username"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    from tasks.disputes.incidents import record_incident_action

    _run(
        record_incident_action,
        username=as_user,
        code=code,
        action=action,
        responsible=responsible,
        now=parse_now(now),
    )
    console.print(f"incident {code}: action recorded")


@incidents_app.command("close")
def close(
    code: str,
    recovery: str = typer.Option(...),
    lessons: str = typer.Option(..., help="The lessons-learned summary (required)"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    from tasks.disputes.incidents import close_incident

    code, status = _run(
        close_incident,
        username=as_user,
        code=code,
        recovery=recovery,
        lessons=lessons,
        now=parse_now(now),
    )
    console.print(f"incident {code}: {status}")
