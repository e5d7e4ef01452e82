"""`clubflow outlets ...`: second-tier outlets (二网) registered by their parent dealer's
staff; registering one starts its `outlet-qualification` run (three review gates, decided
with `clubflow decide outlet:<code> <review> ...`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from pydantic import ValidationError

from clubflow.cli_common import NOW_HELP, console, fail, parse_now, run_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(help="Second-tier outlets (二网): register, list, renew.", no_args_is_help=True)

DOC_HELP = (
    "A document KIND:NUMBER:EXPIRES[:LINK], KIND one of business_licence, tax_registration, "
    "organisation_code (repeatable; all three needed)"
)


def _document(value: str, option: str = "--doc") -> dict[str, Any]:
    parts = value.split(":", 3)
    if len(parts) < 3:
        fail(f"{option} {value!r}: write KIND:NUMBER:EXPIRES[:LINK]")
    kind, number, expires = parts[:3]
    try:
        expires_on = date.fromisoformat(expires)
    except ValueError:
        fail(f"{option} {kind}: expires {expires!r} is not a date (YYYY-MM-DD)")
    return {
        "kind": kind,
        "number": number,
        "expires_on": expires_on,
        "link": parts[3] if len(parts) > 3 else "",
    }


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in exc.errors()
    )


def _start(outlet: str, renewal: int = 0, *, now: str | None = None) -> str:
    from clubflow.outlets import RunNotStarted, start_qualification

    try:
        return start_qualification(outlet, renewal, now=now)
    except RunNotStarted as exc:
        fail(str(exc))


def _print(view) -> None:
    console.print(
        f"{view.code} {view.name} · dealer {view.dealer_code} · {'、'.join(view.cities)} · "
        f"{view.contact_name} {view.contact_phone} · {view.status} · "
        f"passed: {', '.join(view.passed) or '—'}"
    )


@app.command("register")
def register(
    code: str = typer.Option(..., "--code", help="The outlet's code, e.g. O-CH001-01"),
    name: str = typer.Option(..., "--name", help="The outlet's name"),
    city: list[str] = typer.Option(..., "--city", help="A city it covers (repeatable)"),
    contact_name: str = typer.Option("", "--contact", help="The contact person"),
    phone: str = typer.Option("", "--phone", help="The contact's phone"),
    doc: list[str] = typer.Option([], "--doc", help=DOC_HELP),
    start: bool = typer.Option(True, "--start/--no-start", help="Start its qualification run"),
    as_user: str = typer.Option(..., "--as", "--actor", help="Your username (dealer staff)"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Register an outlet under the dealer you work for and start its three reviews."""
    from tasks.audit import Refused
    from tasks.outlets.store import OutletError, OutletIn, register_outlet

    moment = parse_now(now)
    try:
        outlet = OutletIn(
            code=code,
            name=name,
            cities=city,
            contact_name=contact_name,
            contact_phone=phone,
            documents=[_document(d) for d in doc],
        )
    except ValidationError as exc:
        fail(f"outlet {code}: {_problems(exc)}")
    try:
        with session_scope(get_settings().database_url) as session:
            view = register_outlet(session=session, outlet=outlet, by=as_user, now=moment)
    except Refused as exc:
        fail(f"refused: {exc}")
    except OutletError as exc:
        fail(f"outlet {code}: {exc}")
    _print(view)
    if start:
        run_id = _start(view.code, now=run_now(now, moment))
        console.print(f"outlet {view.code}: qualification run {run_id}")


@app.command("list")
def list_(dealer: str | None = typer.Option(None, "--dealer", help="Only this dealer's")) -> None:
    """The outlets, with their status and the reviews passed (phones masked)."""
    from tasks.outlets.store import list_outlets

    with session_scope(get_settings().database_url) as session:
        views = list_outlets(session=session, dealer_code=dealer)
    for view in views:
        _print(view)
    if not views:
        console.print("no outlets")


@app.command("show")
def show(code: str = typer.Argument(..., help="The outlet's code")) -> None:
    """One outlet with its documents (numbers masked)."""
    from tasks.outlets.store import OutletError, load_outlet

    try:
        with session_scope(get_settings().database_url) as session:
            view = load_outlet(session=session, code=code)
    except OutletError as exc:
        fail(str(exc))
    _print(view)
    for d in view.documents:
        console.print(f"  {d.kind} {d.number} until {d.expires_on} {d.link}")


@app.command("renew")
def renew(
    code: str = typer.Argument(..., help="The outlet's code"),
    kind: str = typer.Option(..., "--kind", help="business_licence, tax_registration, ..."),
    number: str = typer.Option(..., "--number", help="The renewed document's number"),
    expires: str = typer.Option(..., "--expires", help="Its new expiry date (YYYY-MM-DD)"),
    link: str = typer.Option("", "--link", help="Where the scan is"),
    start: bool = typer.Option(True, "--start/--no-start", help="Start the re-review run"),
    as_user: str = typer.Option(..., "--as", "--actor", help="Your username (dealer staff)"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record a renewed document; the regional specialist reviews it (a renewal run)."""
    from domain.calendar import business_date
    from tasks.audit import Refused
    from tasks.outlets.store import DocumentIn, OutletError, renew_document

    moment = parse_now(now)
    try:
        document = DocumentIn.model_validate(
            _document(f"{kind}:{number}:{expires}:{link}", "--kind/--number/--expires")
        )
    except ValidationError as exc:
        fail(f"outlet {code}: {_problems(exc)}")
    try:
        with session_scope(get_settings().database_url) as session:
            view = renew_document(
                session=session,
                code=code,
                document=document,
                by=as_user,
                today=business_date(moment),
                now=moment,
            )
    except Refused as exc:
        fail(f"refused: {exc}")
    except (OutletError, LookupError) as exc:
        fail(f"outlet {code}: {exc}")
    _print(view)
    if start:
        run_id = _start(view.code, view.renewals, now=run_now(now, moment))
        console.print(f"outlet {view.code}: renewal run {run_id}")


@app.command("risk")
def risk(
    code: str = typer.Argument(..., help="The outlet's code"),
    score: list[str] = typer.Option(..., "--score", help="ITEM=0-100, e.g. credit=80 (repeat)"),
    as_user: str = typer.Option(..., "--as", help="Your username (HQ finance)"),
    comment: str = typer.Option("", "--comment", "-m"),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Approve the risk assessment with the checklist's scores (a low score is refused)."""
    from domain.gates import OutcomeError
    from tasks.gates.decisions import DecisionRefused, GateRunError, decide
    from tasks.outlets.risk import refuse_risk_scores

    scores: dict[str, float] = {}
    for value in score:
        item, sep, number = value.partition("=")
        try:
            scores[item.strip()] = float(number)
        except ValueError:
            fail(f"--score {value!r}: write ITEM=NUMBER, e.g. credit=80")
        if not sep:
            fail(f"--score {value!r}: write ITEM=NUMBER, e.g. credit=80")
    moment = parse_now(now)
    settings = get_settings()
    try:
        # A checklist the gate would refuse is refused here (and recorded), not "sent".
        with session_scope(settings.database_url) as session:
            problem = refuse_risk_scores(
                session=session,
                code=code,
                decider=as_user,
                scores=scores,
                now=moment,
                settings=settings,
            )
    except LookupError as exc:
        fail(str(exc))
    if problem is not None:
        fail(f"outlet {code}: refused: {problem}")
    try:
        decide(
            f"outlet:{code}",
            "risk",
            decider=as_user,
            outcome="approve",
            comment=comment,
            extra={"scores": scores},
            now=moment,
        )
    except (DecisionRefused, GateRunError, LookupError, OutcomeError) as exc:
        fail(str(exc))
    console.print(
        f"outlet {code}: risk assessment approved "
        f"({', '.join(f'{k}={v:g}' for k, v in scores.items())})"
    )
