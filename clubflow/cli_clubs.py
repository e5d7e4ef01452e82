"""`clubflow clubs ...`: club onboarding (收编登记) and the HQ records behind it.

HQ adds dealers and people; a dealer's staff register their club and submit the checklist's
evidence; the region's specialist reviews item by item. Every refusal is recorded.
"""

from __future__ import annotations

import typer

from clubflow.cli_common import NOW_HELP, console, fail, parse_now
from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings

app = typer.Typer(help="Clubs: onboarding (收编登记), dealers and people.", no_args_is_help=True)

AS_HELP = "Your username (the decision binds to you)"


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            fail(f"{option} {value!r}: give KEY=VALUE")
        out[key.strip()] = rest.strip()
    return out


def _route_demo_inbox() -> None:
    """On a development stack whose channels block is the demo inbox's, the dealer or person
    HQ just added gets their inbox path too, so their messages arrive. A real block is never
    touched (HQ adds the new channel there, `clubflow deploy --channels`)."""
    from clubflow.stack import DEFAULT_HOME, read_channels_document, read_stack_info

    if get_settings().environment != "development" or read_stack_info(DEFAULT_HOME) is None:
        return
    from blocks.channels import NotificationChannels
    from clubflow.world import inbox_channels
    from tasks.outbox import CHANNELS_BLOCK

    try:
        document = read_channels_document(CHANNELS_BLOCK)
        if not document or not document.get("demo_inbox"):
            return
        ops = NotificationChannels.load(CHANNELS_BLOCK).roles.get_secret_value()["ops"]
        with session_scope(get_settings().database_url) as session:
            channels = inbox_channels(session=session, inbox_url=ops.removesuffix("/role/ops"))
        channels.save(CHANNELS_BLOCK, overwrite=True)
    except Exception as exc:  # noqa: BLE001 - the row is added; only the demo route is missing
        console.print(f"[yellow]demo inbox not updated[/yellow]: {exc}")


def _run(action):
    from domain.club_onboarding import ClubInputError
    from tasks.audit import Refused

    try:
        with session_scope(get_settings().database_url) as session:
            return action(session)
    except Refused as exc:
        fail(f"refused: {exc}")
    except (ClubInputError, LookupError) as exc:
        fail(str(exc))


@app.command("add-dealer")
def add_dealer_cmd(
    code: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    city: str = typer.Option(..., "--city"),
    region: str = typer.Option(..., "--region"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """HQ adds a dealer."""
    from tasks.clubs.onboarding import add_dealer

    moment = parse_now(now)
    _run(
        lambda s: add_dealer(
            session=s,
            username=as_user,
            code=code,
            name=name,
            city=city,
            region_code=region,
            now=moment,
        )
    )
    _route_demo_inbox()
    console.print(f"dealer {code}: added")


@app.command("add-person")
def add_person_cmd(
    username: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(..., "--role", help="dealer, club_admin, regional_specialist ..."),
    phone: str | None = typer.Option(None, "--phone"),
    region: str | None = typer.Option(None, "--region"),
    dealer: str | None = typer.Option(None, "--dealer", help="The dealer's code (dealer staff)"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """HQ adds a person (an officer, a club admin, a dealer's staff)."""
    from tasks.clubs.onboarding import add_person

    moment = parse_now(now)
    _run(
        lambda s: add_person(
            session=s,
            username=as_user,
            person=username,
            name=name,
            role=role,
            phone=phone,
            region_code=region,
            dealer_code=dealer,
            now=moment,
        )
    )
    _route_demo_inbox()
    console.print(f"person {username}: added")


@app.command("register")
def register_cmd(
    code: str = typer.Argument(..., help="The club's code, e.g. C-CH900"),
    name: str = typer.Option(..., "--name", help="品牌·羽林·车系·地名·俱乐部"),
    grade: str = typer.Option(..., "--grade", help="所, 营 or 队"),
    dealer: str = typer.Option(..., "--dealer", help="The dealer's code"),
    officer: list[str] = typer.Option([], "--officer", help="TITLE=USERNAME: 会长, 军师, 长史"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """A dealer's staff register the dealer's club (pending until its checklist passes)."""
    from tasks.clubs.onboarding import register_club

    moment = parse_now(now)
    officers = _pairs(officer, "--officer")
    status = _run(
        lambda s: (
            register_club(
                session=s,
                username=as_user,
                dealer_code=dealer,
                code=code,
                name=name,
                grade=grade,
                officers=officers,
                settings=get_settings(),
                now=moment,
            ).status
        )
    )
    console.print(f"club {code}: {status}")


@app.command("submit")
def submit_cmd(
    code: str = typer.Argument(...),
    item: list[str] = typer.Option([], "--item", help="ITEM=EVIDENCE (a link or text)"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The dealer submits evidence for checklist items."""
    from tasks.clubs.onboarding import submit_evidence

    moment = parse_now(now)
    evidence = _pairs(item, "--item")
    if not evidence:
        fail("give at least one --item ITEM=EVIDENCE")
    done = _run(
        lambda s: submit_evidence(
            session=s, username=as_user, club_code=code, evidence=evidence, now=moment
        )
    )
    console.print(f"club {code}: submitted {', '.join(done) or 'nothing new'}")


@app.command("review")
def review_cmd(
    code: str = typer.Argument(...),
    item: str = typer.Option(..., "--item"),
    approve: bool = typer.Option(False, "--approve"),
    return_reason: str = typer.Option("", "--return", help="Return the item with this reason"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    now: str | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """The region's specialist approves an item, or returns it with a reason."""
    from tasks.clubs.onboarding import review_item

    if approve == bool(return_reason):
        fail("give either --approve or --return REASON")
    moment = parse_now(now)
    status = _run(
        lambda s: review_item(
            session=s,
            username=as_user,
            club_code=code,
            item=item,
            approve=approve,
            reason=return_reason,
            now=moment,
        )
    )
    console.print(f"club {code} {item}: {'approved' if approve else 'returned'}; club {status}")


@app.command("list")
def list_cmd(region: str | None = typer.Option(None, "--region")) -> None:
    """Clubs with their status, officers (phones masked) and checklist."""
    from tasks.clubs.onboarding import list_clubs

    lines = _run(lambda s: list_clubs(session=s, region_code=region))
    for c in lines:
        console.print(f"{c.code} {c.name} ({c.region_code}) {c.grade} {c.status}")
        for title, name, phone in c.officers:
            console.print(f"  {title} {name} {phone}")
        for item, label, status, required, reason in c.items:
            mark = "" if required else " (optional)"
            why = f" — {reason}" if reason else ""
            console.print(f"  {item} {label}{mark}: {status}{why}")
