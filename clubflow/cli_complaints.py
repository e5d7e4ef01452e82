"""`clubflow complaints ...`: file a complaint for a member (call agent, dealer's staff),
receive and classify it, record the handling, answer it, and record a satisfaction call's
score. Every step is checked against `--as USER`; a refusal is recorded and exits 2."""

from __future__ import annotations

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(
    help="Complaints (受理 → 处理 → 反馈) and satisfaction calls.", no_args_is_help=True
)

AS = typer.Option(..., "--as", "--actor", help="Your username (or dealer:<code>)")


def _run(step):
    from domain.complaints import ComplaintError

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            return step(session, settings)
    except ComplaintError as exc:
        fail(str(exc))


@app.command("file")
def file(
    member: str = typer.Option(..., help="The member's number, e.g. M000001"),
    subject: str = typer.Option(..., help="What the complaint is about"),
    body: str = typer.Option("", help="The member's words"),
    source: str = typer.Option("call", help="call or dealer (members file on the portal)"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record a complaint received by phone (call agent) or at the dealer (dealer's staff)."""
    from tasks.complaints.records import file_complaint

    moment = parse_now(now)
    c = _run(
        lambda s, st: file_complaint(
            session=s,
            source=source,
            member_no=member,
            subject=subject,
            body=body,
            actor=as_user,
            now=moment,
            settings=st,
        )
    )
    console.print(f"complaint #{c.id}: filed, receive by {c.receive_due}, answer by {c.answer_due}")


@app.command("receive")
def receive(
    complaint_id: int = typer.Argument(...),
    category: str = typer.Option(...),
    severity: str = typer.Option(...),
    handler: str = typer.Option(..., help="The handler's username"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """受理: classify and assign a handler (severity high tells HQ at once)."""
    from tasks.complaints.records import receive_complaint

    moment = parse_now(now)
    c = _run(
        lambda s, st: receive_complaint(
            session=s,
            complaint_id=complaint_id,
            category=category,
            severity=severity,
            handler=handler,
            actor=as_user,
            now=moment,
            settings=st,
        )
    )
    console.print(f"complaint #{c.id}: received ({c.category}/{c.severity}) → {c.handler}")


@app.command("act")
def act(
    complaint_id: int = typer.Argument(...),
    note: str = typer.Option(..., help="What was done"),
    done: bool = typer.Option(False, "--done", help="The handling is finished"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """处理: record an action on the complaint."""
    from tasks.complaints.records import record_action

    moment = parse_now(now)
    c = _run(
        lambda s, st: record_action(
            session=s, complaint_id=complaint_id, note=note, done=done, actor=as_user, now=moment
        )
    )
    console.print(f"complaint #{c.id}: {c.status}")


@app.command("answer")
def answer(
    complaint_id: int = typer.Argument(...),
    text: str = typer.Option(..., "--text", help="The answer the member receives"),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """反馈: send the answer to the member (outbox); they confirm on the portal."""
    from tasks.complaints.records import answer_complaint

    moment = parse_now(now)
    c = _run(
        lambda s, st: answer_complaint(
            session=s,
            complaint_id=complaint_id,
            answer=text,
            actor=as_user,
            now=moment,
            settings=st,
        )
    )
    console.print(f"complaint #{c.id}: answered")


@app.command("score")
def score(
    call_id: int = typer.Argument(..., help="The satisfaction call's id"),
    value: int = typer.Option(..., "--score", help="1-5"),
    comment: str = typer.Option(""),
    as_user: str = AS,
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Record a satisfaction call's score."""
    from tasks.complaints.satisfaction import record_score

    moment = parse_now(now)
    call = _run(
        lambda s, st: record_score(
            session=s, call_id=call_id, score=value, comment=comment, actor=as_user, now=moment
        )
    )
    console.print(f"satisfaction call #{call.id}: {call.score}")
