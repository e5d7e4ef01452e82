"""`clubflow activity ...`: propose, check in, file the recap and the claim, decide a claim
line by line, mark it paid, and see where an activity stands.

Steps that wait for a human (review, claim approval) start a deployment run, which suspends
at its gate; the others run their flow here and print what it did.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlmodel import Session

from clubflow.cli_common import NOW_HELP, fail, parse_now, run_now

app = typer.Typer(no_args_is_help=True, help="The activity lifecycle: proposal to archive.")
console = Console(soft_wrap=True)  # commands printed whole, for copy and paste


def _read_data(path: Path) -> Any:
    """A JSON or YAML file (by extension; YAML is a superset of JSON anyway)."""
    from clubflow.core.documents import DocumentError, read_document

    try:
        return read_document(path, mapping=False)
    except DocumentError as exc:
        fail(str(exc))


def _model(model: type, data: Any, path: Path):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()
        )
        fail(f"{path}: {problems}")


def _start_deployment(name: str, parameters: dict[str, Any]):
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        return run_deployment(f"{name}/{name}", parameters=parameters, timeout=0)
    except ObjectNotFound:
        fail(f"deployment {name!r} is not served: start the system with `clubflow up`")


def _dry_run_proposal(proposal, now: datetime) -> str:
    """Check the proposal against the store without keeping anything; returns its code."""
    from clubflow.core.db import get_engine
    from clubflow.core.settings import get_settings
    from domain.activities import ProposalRefused
    from tasks.activities.store import register_proposal

    settings = get_settings()
    with Session(get_engine(settings.database_url)) as session:
        try:
            activity = register_proposal(
                session=session, proposal=proposal, now=now, settings=settings
            )
        except ProposalRefused as exc:
            for problem in exc.problems:
                console.print(f"[red]refused[/red] {problem.field}: {problem.reason}")
            raise typer.Exit(code=2) from None
        finally:
            session.rollback()
    return activity.code


def _warn_safety(proposal) -> None:
    """The review will refuse an approval without the safety plan (B/C) or support vehicle."""
    from domain.safety import safety_problems

    for field, reason in safety_problems(
        klass=str(proposal.activity_class),
        theme=proposal.theme,
        title=proposal.title,
        safety_plan=proposal.safety_plan,
        support_vehicle=proposal.support_vehicle,
    ):
        console.print(f"[yellow]warning[/yellow] {field}: {reason}", soft_wrap=True)


@app.command()
def propose(
    file: Path = typer.Argument(..., help="The proposal (JSON or YAML): title, class, ..."),
    now: str = typer.Option("", help=NOW_HELP),
    tiers: str = typer.Option(
        "", "--tiers", help="Tier-only: allowed tiers, e.g. silver,gold (default: every member)"
    ),
) -> None:
    """Propose an activity; B and C wait for their reviewers, D and E are registered."""
    from domain.activities import ActivityProposal, review_chain

    data = _read_data(file)
    if tiers and isinstance(data, dict):
        data = {**data, "tiers": tiers.split(",")}
    proposal = _model(ActivityProposal, data, file)
    moment = parse_now(now)
    code = _dry_run_proposal(proposal, moment)
    run = _start_deployment(
        "activity-lifecycle",
        {"proposal": proposal.model_dump(mode="json"), "now": run_now(now, moment)},
    )
    console.print(f"activity {code}: lifecycle run {run.id} started")
    _warn_safety(proposal)
    chain = review_chain(proposal.activity_class, proposal.region)
    if chain:
        step = chain[0]
        console.print(
            f"waiting for {step.title} ({step.role}"
            + (f" of {step.region}" if step.region else "")
            + f"): clubflow decide activity:{code} {step.key} approve --as USER"
        )
    else:
        console.print(f"class {proposal.activity_class}: no review needed")


@app.command()
def register(
    code: str = typer.Argument(..., help="The activity code"),
    members: list[str] = typer.Argument(..., help="Member numbers, e.g. M000001 M000002"),
    user: str = typer.Option(..., "--as", help="The club's admin, or dealer:<code>"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Register members for an activity (before or at the event)."""
    from flows.activities.registration import activity_registration
    from tasks.activities.checkin import CheckinError
    from tasks.activities.store import ActivityError

    moment = parse_now(now)
    _authorize_club("activity.register", code, user, "registration", moment)
    # Refused here (unknown member, registration closed), before a run could fail on it.
    from clubflow.core.db import get_engine
    from clubflow.core.settings import get_settings
    from tasks.activities.checkin import TierRefusedError, register_members

    with Session(get_engine(get_settings().database_url)) as session:
        try:
            register_members(session=session, code=code, member_nos=members, now=moment)
        except TierRefusedError as exc:
            session.rollback()
            _record_tier_refusal(code, user, exc, moment)
        except (CheckinError, ActivityError, LookupError) as exc:
            fail(str(exc))
        finally:
            session.rollback()
    try:
        new = activity_registration(code, members, now=moment)
    except (CheckinError, ActivityError, LookupError) as exc:
        fail(str(exc))
    console.print(f"{code}: {new} newly registered ({len(members) - new} already were)")


@app.command()
def checkin(
    code: str = typer.Argument(..., help="The activity code, e.g. C-CH001-20261011"),
    file: Path = typer.Argument(..., help="CSV: member_no or phone, checked_in_at, organiser"),
    user: str = typer.Option(..., "--as", help="The club's admin, or dealer:<code>"),
    now: str = typer.Option("", help=NOW_HELP),
    column: list[str] = typer.Option(
        [], "--map", help="HEADER=FIELD for a header the known names miss, e.g. 编号=member_no"
    ),
) -> None:
    """Import check-ins; unregistered members are registered, doubles count once."""
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from flows.activities.checkin import activity_checkin
    from tasks.activities.checkin import CheckinError, checkin_refusal, parse_checkin_csv
    from tasks.activities.store import ActivityError

    moment = parse_now(now)
    try:
        rows = parse_checkin_csv(file.read_bytes(), column)
    except CheckinError as exc:
        fail(f"{file.name}: {exc}")
    except OSError as exc:
        fail(f"{file}: {exc.strerror}")
    # Refused here, before any run starts (recorded): one line, no Failed run.
    with session_scope(get_settings().database_url) as session:
        refused = checkin_refusal(session=session, code=code, rows=rows, by=user, now=moment)
    if refused:
        fail(f"activity {code}: check-in refused: {refused}")
    try:
        report = activity_checkin(code, rows, user, now=moment, source="csv")
    except (CheckinError, ActivityError, LookupError) as exc:
        fail(str(exc))
    if "refused" in report:
        fail(f"activity {code}: check-in refused: {report['refused']}")
    console.print(
        f"{code}: {report['rows']} rows, {report['newly_checked_in']} new check-ins "
        f"({report['newly_registered']} registered on the spot), "
        f"{report['participants']} participants"
    )


@app.command()
def recap(
    code: str = typer.Argument(...),
    file: Path = typer.Argument(..., help="The recap (JSON or YAML): filed_by, media_links, ..."),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """File the recap; the report is rendered to an HTML file and a markdown artifact."""
    from domain.activities import RecapInput
    from flows.activities.recap import activity_recap
    from tasks.activities.store import ActivityError

    moment = parse_now(now)
    data = _model(RecapInput, _read_data(file), file)
    _authorize_club("activity.recap", code, data.filed_by, "the recap", moment)
    try:
        path = activity_recap(code, data, now=moment)
    except (ActivityError, LookupError) as exc:
        fail(str(exc))
    console.print(f"{code}: recap filed; report {path}")


@app.command()
def claim(
    code: str = typer.Argument(...),
    file: Path = typer.Argument(..., help="The claim (JSON or YAML): submitted_by, lines"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """File a subsidy claim; the region's specialist decides it line by line."""
    from clubflow.core.settings import get_settings
    from domain.subsidy import ClaimInput

    moment = parse_now(now)
    data = _model(ClaimInput, _read_data(file), file)
    _authorize_club("activity.claim", code, data.submitted_by, "the subsidy claim", moment)
    unknown = sorted(
        {line.category for line in data.lines} - set(get_settings().subsidy_policy.categories)
    )
    if unknown:
        console.print(f"[yellow]note:[/yellow] unknown categories {unknown} will be rejected")
    run = _start_deployment(
        "activity-claim",
        {"code": code, "claim": data.model_dump(mode="json"), "now": run_now(now, moment)},
    )
    console.print(
        f"{code}: claim run {run.id} started; the specialist decides with "
        f"clubflow activity decide-claim {code} approve --as USER [--line N=AMOUNT:comment]"
    )


def _authorize_club(action: str, code: str, user: str, what: str, now: datetime) -> None:
    """Refuse (recorded, one line) a `--as` who is not the activity's club admin or dealer."""
    from tasks.activities.checkin import club_actor_refusal
    from tasks.activities.store import get_activity

    def rule(session, _actor):
        try:
            activity = get_activity(session=session, code=code)
        except LookupError as exc:
            return str(exc)
        return club_actor_refusal(session=session, activity=activity, by=user, action=what)

    _authorize(action, code, user, rule, now)


def _authorize_role(
    action: str, code: str, user: str, roles: tuple[str, ...], what: str, now: datetime
) -> None:
    from domain.permissions import role_refusal

    _authorize(
        action,
        code,
        user,
        lambda _s, actor: role_refusal(actor, username=user, roles=roles, action=what),
        now,
    )


def _authorize(action: str, code: str, user: str, rule, now: datetime) -> None:
    """Refuse in one line, after the refusal is recorded and committed."""
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.audit import refusal_if_not_allowed

    subject = f"activity:{code}"
    with session_scope(get_settings().database_url) as session:
        reason = refusal_if_not_allowed(
            session=session, action=action, subject=subject, username=user, rule=rule, now=now
        )
    if reason is not None:
        fail(f"{subject}: {action.split('.')[-1]} refused: {reason}")


def _record_tier_refusal(code: str, user: str, exc: Exception, now: datetime) -> None:
    """A member of another tier is refused: recorded and committed, then one line."""
    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.audit import record_refusal

    with session_scope(get_settings().database_url) as session:
        record_refusal(
            session=session,
            action="activity.register",
            subject=f"activity:{code}",
            actor=user,
            reason=str(exc),
            now=now,
        )
    fail(str(exc))


def _parse_line(value: str) -> dict[str, Any]:
    number, _, rest = value.partition("=")
    amount, _, comment = rest.partition(":")
    try:
        return {"line_no": int(number), "amount": float(amount), "comment": comment.strip()}
    except ValueError:
        fail(f"--line {value!r}: expected N=AMOUNT or N=AMOUNT:comment, e.g. 3=1200:按实际")


@app.command("decide-claim")
def decide_claim(
    code: str = typer.Argument(...),
    outcome: str = typer.Argument(..., help="approve | reject"),
    user: str = typer.Option(..., "--as", help="Your username (the region's specialist)"),
    line: list[str] = typer.Option([], "--line", help="N=AMOUNT[:comment]; others as proposed"),
    comment: str = typer.Option("", "--comment", "-m"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Decide a claim line by line (lines not named keep the engine's proposal)."""
    from domain.gates import OutcomeError
    from tasks.gates.decisions import DecisionRefused, GateRunError, decide

    try:
        decide(
            f"claim:{code}",
            "claim_approval",
            decider=user,
            outcome=outcome,
            comment=comment,
            extra={"lines": [_parse_line(v) for v in line]},
            now=parse_now(now),
        )
    except DecisionRefused as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=1) from None
    except (LookupError, OutcomeError, GateRunError) as exc:
        fail(str(exc))
    console.print(f"{code}: claim {outcome} by {user}; the run resumes")


@app.command()
def pay(
    code: str = typer.Argument(...),
    user: str = typer.Option(..., "--as", help="Your username (finance)"),
    ref: str = typer.Option(..., "--ref", help="The payment reference"),
    now: str = typer.Option("", help=NOW_HELP),
) -> None:
    """Finance: mark an approved claim paid; the club is told."""
    from flows.activities.payment import activity_payment
    from tasks.activities.claims import ClaimRefused

    moment = parse_now(now)
    _authorize_role("activity.pay", code, user, ("finance",), "marking a claim paid", moment)
    try:
        amount = activity_payment(code, user, ref, now=moment)
    except (ClaimRefused, LookupError) as exc:
        fail(str(exc))
    console.print(f"{code}: paid ¥{amount:,.2f} ({ref})")


@app.command()
def show(code: str = typer.Argument(...)) -> None:
    """Where an activity stands: status, dated steps, participants, claim."""
    from rich.table import Table

    from clubflow.core.db import session_scope
    from clubflow.core.settings import get_settings
    from tasks.activities.checkin import participant_count
    from tasks.activities.claims import read_claim
    from tasks.activities.store import read_activity, upcoming_steps

    with session_scope(get_settings().database_url) as session:
        try:
            activity = read_activity(session=session, code=code)
        except LookupError as exc:
            fail(str(exc))
        participants = participant_count(session=session, activity_id=activity.id)
        try:
            claim_view = read_claim(session=session, code=code)
        except LookupError:
            claim_view = None
    console.print(f"{activity.run_label} ({code}): [bold]{activity.status}[/bold]")
    console.print(f"{activity.starts_on} – {activity.ends_on}, {participants} participants")
    table = Table(title="Dated steps")
    for col in ("step", "date", "state"):
        table.add_column(col)
    for row in upcoming_steps(activity):
        table.add_row(row["step"], row["date"], row["state"])
    console.print(table)
    if claim_view is not None:
        lines = Table(title=f"Claim: {claim_view.status}")
        for col in ("line", "category", "asked", "proposed", "decided", "reason"):
            lines.add_column(col)
        for x in claim_view.lines:
            lines.add_row(
                str(x.line_no),
                x.category,
                f"{x.amount:,.2f}",
                f"{x.proposed_amount or 0:,.2f}",
                "" if x.decided_amount is None else f"{x.decided_amount:,.2f}",
                x.decision_comment or x.proposal_reason or "",
            )
        console.print(lines)
